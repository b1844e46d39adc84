"""Real-time scheduling for the thread that runs the model (Linux), asked for, never assumed.

Why: on a node whose cores the model fills, every wake-up of another process (Ray's daemons,
Serve's controller and proxies, the other replicas, each waking every few milliseconds) preempts
one of the model's OpenMP threads, and its partner then spins at the next parallel region until
it comes back: each preemption costs the model about twice its length. Measured here (2-core VM,
t5-small-shaped checkpoint, 32 clients, README "Benchmarks"): about 1,000 such preemptions a
second, a median 60 us each. A SCHED_FIFO thread is not preempted by ordinary (SCHED_OTHER)
processes; the kernel still keeps 5% of every second for them (``sched_rt_runtime_us``), and the
model thread sleeps whenever it has no call to run, so the rest of the node runs between calls.
The price is paid there: while a call runs, everything else on the node waits for its pauses
(``/health`` under 32 clients: p95 about 0.8 s against 29 ms), so this is for a machine given
over to the model, asked for per deployment, and off by default.

Threads inherit their creator's policy, so the OpenMP pool that torch starts from this thread on
its first parallel region runs at the same priority. It needs CAP_SYS_NICE or an RLIMIT_RTPRIO of
at least ``priority``; without either the thread stays SCHED_OTHER and the replica logs why.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger("ray.serve")

# The lowest real-time priority: above every ordinary process, below the kernel's own threads.
REALTIME_PRIORITY = 1


def make_calling_thread_realtime(priority: int = REALTIME_PRIORITY) -> str:
    """Put the calling thread on SCHED_FIFO at ``priority``; return the policy it ends up on.

    ``"fifo"`` on success, else ``"other"`` (logged as a warning with the reason): the model
    still runs, only without the protection.
    """
    try:
        # pid 0: the calling thread (Linux applies scheduling policies per thread)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError) as error:  # not Linux / not permitted
        logger.warning(
            "realtime_model_thread: could not put the model thread on SCHED_FIFO (%s); it "
            "runs on SCHED_OTHER. It needs CAP_SYS_NICE (Kubernetes: securityContext "
            "capabilities add SYS_NICE) or an RLIMIT_RTPRIO of at least %d.",
            error,
            priority,
        )
        return "other"
    return "fifo"


def calling_thread_policy() -> str:
    """``"fifo"``, ``"rr"`` or ``"other"`` (batch and idle count as other)."""
    policy = os.sched_getscheduler(0)
    return {os.SCHED_FIFO: "fifo", os.SCHED_RR: "rr"}.get(policy, "other")
