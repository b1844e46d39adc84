"""Whether this machine lets the tests' processes use SCHED_FIFO (realtime_model_thread)."""

import threading

import pytest

from deployments.thread_priority import make_calling_thread_realtime


def fifo_permitted() -> bool:
    """Root, CAP_SYS_NICE or an RLIMIT_RTPRIO: probed in a thread of its own, which ends."""
    outcome = []
    probe = threading.Thread(target=lambda: outcome.append(make_calling_thread_realtime()))
    probe.start()
    probe.join()
    return outcome == ["fifo"]


needs_fifo = pytest.mark.skipif(
    not fifo_permitted(), reason="this process may not use SCHED_FIFO (no CAP_SYS_NICE)"
)
