"""Admit texts into the graph up to a bound; past it, refuse at once and say when to retry.

Without a bound, a spike queues behind the model and every caller's latency grows until they
all time out. With one, latency stays near ``max_pending / throughput`` and the rest get a fast
503 whose ``Retry-After`` is that same figure: how long the texts already inside need to drain.

Pure Python, one instance per ingress replica (its event loop is single-threaded, so no locks).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from deployments.core.errors import Overloaded

# Completions within this window set the throughput that Retry-After divides by.
THROUGHPUT_WINDOW_S = 10.0
# Bounds on the advice: at least one second (the header's unit), at most a minute.
MIN_RETRY_AFTER_S, MAX_RETRY_AFTER_S = 1, 60


class AdmissionControl:
    def __init__(self, max_pending: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_pending = max_pending
        self.pending = 0
        self.refused = 0
        self._clock = clock
        self._completions: deque[tuple[float, int]] = deque()
        self._first_admitted: float | None = None

    def admit(self, count: int) -> None:
        """Count ``count`` texts in, or raise Overloaded without counting them."""
        if self.pending + count > self.max_pending:
            self.refused += 1
            retry_after = self.retry_after_s()
            raise Overloaded(
                f"the service is at capacity ({self.pending} texts in flight, limit "
                f"{self.max_pending}); retry in {retry_after} s",
                limit=self.max_pending,
                in_flight=self.pending,
                retry_after_s=retry_after,
            )
        self.pending += count
        if self._first_admitted is None:
            self._first_admitted = self._clock()

    def release(self, count: int, *, completed: bool) -> None:
        """Count texts out; ``completed`` ones feed the throughput estimate."""
        self.pending -= count
        if completed:
            self._completions.append((self._clock(), count))

    def throughput(self) -> float | None:
        """Texts completed per second over the recent window; None before any completed."""
        now = self._clock()
        while self._completions and self._completions[0][0] < now - THROUGHPUT_WINDOW_S:
            self._completions.popleft()
        if not self._completions:
            return None
        # Over the whole window, or since traffic began if that is more recent.
        first = now if self._first_admitted is None else self._first_admitted
        span = max(now - max(now - THROUGHPUT_WINDOW_S, first), 1.0)
        return sum(count for _, count in self._completions) / span

    def retry_after_s(self) -> int:
        """Seconds until the texts in flight should have drained, at the recent throughput."""
        rate = self.throughput()
        if rate is None:
            return MIN_RETRY_AFTER_S
        seconds = math.ceil(self.pending / rate)
        return max(MIN_RETRY_AFTER_S, min(MAX_RETRY_AFTER_S, seconds))
