"""How the graph wants its Ray cluster started: what a Serve config file cannot carry.

Every Ray and Serve process reads these from its environment at start, so ``make run``, the
tests and the benchmarks set them before starting Ray, and the KubeRay manifests put them in
every pod. Why each one, with the measurements: docs/operations.md, "The Ray environment".
"""

import os

RAY_ENV = {
    # Replicas at the daemons' priority (Ray starts workers at nice 15): the replicas are the
    # node's workload, and a parallel region waits for its slowest thread.
    "RAY_worker_niceness": "0",
    # User code on the replica's main loop, gRPC between replicas, HAProxy on port 8000
    # forwarding straight to the ingress replica: fewer hops for every request.
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_HA_PROXY": "1",
    # ...less two parts of that mode: a script can still call a handle synchronously, and an
    # operator sees each log line as it is written.
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1",
    "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1",
    "RAY_SERVE_LOG_TO_STDERR": "1",
    # The controller wakes 5x less often; its reactions come up to 0.4 s later.
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
}

# One machine only: no other node's HAProxy can still be sending to a stopping ingress replica,
# so it need not stay reachable for 30 s (every Ctrl-C would wait for it).
ONE_MACHINE_ENV = {"RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "5"}


def apply_ray_env() -> None:
    """Put RAY_ENV and ONE_MACHINE_ENV into this process's environment, keeping any value already
    set there, before this process starts a local Ray (whose processes inherit it)."""
    for name, value in {**RAY_ENV, **ONE_MACHINE_ENV}.items():
        os.environ.setdefault(name, value)
