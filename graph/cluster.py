"""How the graph wants its Ray cluster started: what a Serve config file cannot carry.

Ray starts every worker process, so every replica, at nice 15 (its ``worker_niceness``), to
keep its own daemons responsive under user load. On a small serving node that puts the
Translator's OpenMP threads behind every other process on the machine, and a parallel region
waits for its slowest thread: measured here (2 cores, t5-small-shaped checkpoint, a lone
client), one sentence's generate ran 15-30 ms slower in the replica than in a plain process at
nice 0, and 8 ms slower to 13 ms faster with the replicas at nice 0. The graph's replicas are the
node's whole workload, so they run at the daemons' priority.

``make run`` and ``make bench`` start Ray with these settings; the KubeRay manifests put them in
every pod's environment (``ray start`` reads ``RAY_<setting>`` variables). A cluster started
some other way needs them in the environment of ``ray start`` (or of the ``serve run`` that
starts Ray).
"""

import os

RAY_ENV = {"RAY_worker_niceness": "0"}


def apply_ray_env() -> None:
    """Put RAY_ENV into this process's environment, keeping any value already set there, before
    this process starts a local Ray (whose processes inherit it)."""
    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)
