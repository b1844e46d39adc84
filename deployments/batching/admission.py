"""Admit a request only if it can be answered in time; past that, refuse at once, saying when
to retry.

Without a bound, a spike queues behind the model and every caller's latency grows until they
all time out. Two bounds here: the expected wait (the texts ahead of a request and its own,
over the rate the graph has recently completed texts at while it had work) must fit
``max_queue_wait_s`` and the request's own deadline; and, as a backstop, at most
``max_pending`` texts in flight. Up to ``one_call_texts`` in flight (one model call's worth)
are admitted whatever the rate: the rate was measured at the load seen so far, and a low load's
small batches understate what a full batch completes; until a rate is known (a cold graph),
that is also the limit. A request with nothing ahead of it is always admitted.

After a downstream replica dies under a batch, and until a text completes again, only a request
with nothing ahead of it is admitted (a probe): the rest would wait for the replacement to load
its model, behind the texts already in flight, past their deadlines.

Pure Python, one instance per ingress replica (its event loop is single-threaded, so no locks).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import NoReturn

from deployments.core.errors import Overloaded, TemporarilyUnavailable

# Completions (and busy time) within this window set the rate.
RATE_WINDOW_S = 10.0
# Below this much busy time in the window the rate is not trusted yet.
MIN_BUSY_S = 0.5
# Bounds on the advice: at least one second (the header's unit), at most a minute.
MIN_RETRY_AFTER_S, MAX_RETRY_AFTER_S = 1, 60


class AdmissionControl:
    def __init__(
        self,
        max_pending: int,
        *,
        max_queue_wait_s: float | None = None,
        one_call_texts: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_pending = max_pending
        self.max_queue_wait_s = max_queue_wait_s
        self.one_call_texts = one_call_texts
        self.pending = 0
        self.refused = 0
        # Replica deaths seen, and when the latest happened if no text has completed since.
        self.replicas_lost = 0
        self._lost_since: float | None = None
        self._clock = clock
        self._completions: deque[tuple[float, int]] = deque()
        # Closed intervals with texts in flight, and the start of the open one.
        self._busy: deque[tuple[float, float]] = deque()
        self._busy_since: float | None = None

    def admit(self, count: int, timeout_s: float | None = None) -> None:
        """Count ``count`` texts in, or raise Overloaded without counting them."""
        if self.pending + count > self.max_pending:
            self._refuse(
                f"the service is at capacity ({self.pending} texts in flight, limit "
                f"{self.max_pending})",
                limit=self.max_pending,
                in_flight=self.pending,
                retry_after_s=self.retry_after_s(),
            )
        if self.pending and self._lost_since is not None:
            self.refused += 1
            retry_after = self.retry_after_s()
            raise TemporarilyUnavailable(
                f"a replica died under a batch {self._clock() - self._lost_since:.0f} s ago and "
                f"no text has completed since ({self.pending} texts in flight wait for its "
                f"replacement); retry in {retry_after} s",
                in_flight=self.pending,
                retry_after_s=retry_after,
            )
        if self.pending:
            self._check_wait(count, timeout_s)
        if self.pending == 0:
            self._busy_since = self._clock()
        self.pending += count

    def _check_wait(self, count: int, timeout_s: float | None) -> None:
        rate = self.rate()
        one_call = self.one_call_texts
        if rate is None:
            if one_call is not None and self.pending + count > one_call:
                self._refuse(
                    f"the service is warming up ({self.pending} texts in flight before its "
                    f"rate is known, limit {one_call})",
                    limit=one_call,
                    in_flight=self.pending,
                    retry_after_s=MIN_RETRY_AFTER_S,
                )
            return
        within_one_call = one_call is not None and self.pending + count <= one_call
        queue_bound = None if within_one_call else self.max_queue_wait_s
        bounds = [b for b in (queue_bound, timeout_s) if b is not None]
        if not bounds:
            return
        wait = (self.pending + count) / rate
        limit = min(bounds)
        if wait > limit:
            retry_after = _bounded(wait - limit)
            self._refuse(
                f"the expected wait, {wait:.1f} s ({self.pending} texts ahead at "
                f"{rate:.1f} texts/s), is over this request's limit of {limit:g} s",
                limit_s=limit,
                expected_wait_s=round(wait, 2),
                retry_after_s=retry_after,
            )

    def _refuse(self, reason: str, **details: float | int) -> NoReturn:
        self.refused += 1
        raise Overloaded(f"{reason}; retry in {details['retry_after_s']} s", **details)

    def replica_lost(self) -> None:
        """A downstream replica died under a batch: admit probes only, until a completion."""
        self.replicas_lost += 1
        self._lost_since = self._clock()

    def release(self, count: int, *, completed: bool) -> None:
        """Count texts out; ``completed`` ones feed the rate."""
        now = self._clock()
        self.pending -= count
        if completed:
            self._completions.append((now, count))
            self._lost_since = None
        if self.pending == 0 and self._busy_since is not None:
            self._busy.append((self._busy_since, now))
            self._busy_since = None

    def rate(self) -> float | None:
        """Texts completed per second of busy time (texts in flight) within the window; None
        until enough was seen. Idle time does not dilute it: it is the graph's capacity."""
        now = self._clock()
        start = now - RATE_WINDOW_S
        while self._completions and self._completions[0][0] < start:
            self._completions.popleft()
        while self._busy and self._busy[0][1] < start:
            self._busy.popleft()
        intervals = list(self._busy)
        if self._busy_since is not None:
            intervals.append((self._busy_since, now))
        busy = sum(end - max(begin, start) for begin, end in intervals)
        if not self._completions or busy < MIN_BUSY_S:
            return None
        return sum(count for _, count in self._completions) / busy

    def retry_after_s(self) -> int:
        """Seconds until the texts in flight should have drained, at the recent rate."""
        rate = self.rate()
        if rate is None:
            return MIN_RETRY_AFTER_S
        return _bounded(self.pending / rate)


def _bounded(seconds: float) -> int:
    return max(MIN_RETRY_AFTER_S, min(MAX_RETRY_AFTER_S, math.ceil(seconds)))
