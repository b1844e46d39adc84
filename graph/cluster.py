"""How the graph wants its Ray cluster started: what a Serve config file cannot carry.

Two things, both read by every Ray and Serve process from its environment at start:

Replicas at nice 0. Ray starts every worker process, so every replica, at nice 15 (its
``worker_niceness``), to keep its own daemons responsive under user load. On a small serving
node that puts the Translator's OpenMP threads behind every other process on the machine, and a
parallel region waits for its slowest thread: measured here (2 cores, t5-small-shaped
checkpoint, a lone client), one sentence's generate ran 15-30 ms slower in the replica than in a
plain process at nice 0, and 8 ms slower to 13 ms faster with the replicas at nice 0. The
graph's replicas are the node's whole workload, so they run at the daemons' priority.

Serve's throughput-optimized mode, less three of its parts. A lone request crosses five Serve
hops (proxy, ingress, Translator, ingress, Postprocessor, ingress, proxy), and by default each
replica hands every call from its main event loop to a second loop on its own thread for user
code. ``RAY_SERVE_THROUGHPUT_OPTIMIZED`` runs user code on the main loop, sends calls between
replicas over gRPC and freezes the garbage collector's start-up objects. Measured here (A/B,
fresh cluster each, 25-30 lone requests each on the t5-small-shaped checkpoint): the time a
request spent outside the model, client to client, was 16.8-18.8 ms with the whole mode against
21.9-24.1 ms without, in four pairs of runs; as shipped (routing left on its own loop),
17.1-17.5 ms against 19.8-20.5 in two pairs, and a lone request's median paired difference with
an in-process generate +11 ms against +16 and +21. Sync methods (``reconfigure``, model loads)
still run in Serve's thread pool, off the loop. The parts left out:
- routing on the caller's event loop: a process with it cannot call a handle from plain
  synchronous code (``handle.remote(...).result()`` in a script raises "No event loop running"),
  and these variables reach every process on a node, a KubeRay pod's included;
- direct ingress: the ingress replica then listens on ports of its own (30000-31000) for an
  outside load balancer; clients here and the KubeRay Service go through the proxy;
- request-path log lines buffered 1000 at a time and kept off stderr: an operator tailing a
  replica's log sees each line when it is written.

``make run`` and ``make bench`` start Ray with these settings; the KubeRay manifests put them in
every pod's environment (``ray start`` reads ``RAY_<setting>`` variables). A cluster started
some other way needs them in the environment of ``ray start`` (or of the ``serve run`` that
starts Ray).
"""

import os

RAY_ENV = {
    "RAY_worker_niceness": "0",
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1",
    "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1",
    "RAY_SERVE_LOG_TO_STDERR": "1",
}


def apply_ray_env() -> None:
    """Put RAY_ENV into this process's environment, keeping any value already set there, before
    this process starts a local Ray (whose processes inherit it)."""
    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)
