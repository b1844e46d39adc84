"""Merge the batches that queue at the Translator into one model call, adaptively.

Serve's ``@serve.batch`` forms a batch as soon as its wait window closes, whether or not the model
is free; under load that means many small batches queued behind a busy model, and on a CPU a
generate of 1 sentence costs a third of one of 32. So the Translator runs one model call at a time
and, each time the model is free, takes everything queued (up to ``max_items``) as one call.

When the model is free and fewer items are queued than were recently inside the replica at once
(queued and running), it waits up to ``max_wait_s`` for the rest: a closed loop of 32 clients
comes back together, tens of milliseconds apart on a busy 2-core machine, and a call on the
first few would split them into two cohorts that alternate for ever, each paying a whole
generate. A lone client was only ever 1 item inside, so its next request goes at once, with no
wait at all. (Ending the wait after a quiet gap between arrivals split closed-loop cohorts
again: docs/engines.md.)

Pure asyncio and a worker thread: no Ray, no torch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Submission(Generic[Item, Result]):
    items: Sequence[Item]
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Completed(Generic[Result]):
    """A submission's results and where its time went (for timing headers and metrics)."""

    results: list[Result]
    # From submit() to the start of the model call that ran it.
    queued_s: float
    # That model call, start to end (it may have carried other submissions too).
    run_s: float


@dataclass(frozen=True)
class SchedulerStats:
    calls: int
    items: int
    expected_items: int
    busy_s: float
    # Items whose caller had gone (its call cancelled) before the model reached them.
    dropped_items: int
    # Items waiting for the model now.
    queued_items: int


# How many recent calls' peaks set the expected count: long enough to bridge the alternation of
# two cohorts, short enough to forget a burst within a few calls.
PEAK_MEMORY_CALLS = 4


class BatchScheduler(Generic[Item, Result]):
    """``await submit(items)`` from many tasks; ``run(all_items)`` once per free model slot.

    ``run`` is synchronous (it blocks on the model) and runs in one worker thread, so the event
    loop keeps accepting submissions while the model works. It must return one result per item,
    in order; it should return failures as values, since an exception fails every submission
    in the call.
    """

    def __init__(
        self,
        run: Callable[[list[Item]], list[Result]],
        *,
        max_items: int = 32,
        max_wait_s: float = 0.3,
    ) -> None:
        self._run = run
        self.max_items = max_items
        self.max_wait_s = max_wait_s
        self._queue: list[_Submission] = []
        self._arrival = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = self._new_executor()
        self._closing = False
        self._worker: asyncio.Task | None = None
        self._running_items = 0
        self._free_since = 0.0  # when the model last finished a call
        self._peak = 0  # most items inside (queued + running) since the last call began
        self._recent_peaks: deque[int] = deque(maxlen=PEAK_MEMORY_CALLS)
        self.calls = 0
        self.items = 0
        self.busy_s = 0.0
        self.dropped_items = 0

    def close(self) -> None:
        """Stop once the queued submissions have run (its model is being unloaded): the worker
        task and thread end, and with them the last references to the model. Each model has a
        scheduler, so a thread, of its own: OpenMP keeps a thread pool per calling thread, and
        CTranslate2's libgomp binds to torch's; a new engine on an old thread ran slower
        (docs/engines.md)."""
        self._closing = True
        self._arrival.set()

    @staticmethod
    def _new_executor() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")

    def configure(self, *, max_items: int, max_wait_s: float) -> None:
        """New limits apply from the next call on."""
        self.max_items = max_items
        self.max_wait_s = max_wait_s

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        return (await self.submit_timed(items)).results

    async def submit_timed(self, items: Sequence[Item]) -> Completed[Result]:
        if not items:
            return Completed([], 0.0, 0.0)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())
        future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        submission: _Submission[Item, Result] = _Submission(items, future)
        self._queue.append(submission)
        self._peak = max(self._peak, self._queued_items() + self._running_items)
        self._arrival.set()
        return await submission.future

    def stats(self) -> SchedulerStats:
        return SchedulerStats(
            self.calls,
            self.items,
            self._expected(),
            self.busy_s,
            self.dropped_items,
            self._queued_items(),
        )

    def _expected(self) -> int:
        return max(1, min(max(self._recent_peaks, default=1), self.max_items))

    def _queued_items(self) -> int:
        return sum(len(s.items) for s in self._queue)

    async def _work(self) -> None:
        while True:
            while not self._queue:
                if self._closing:
                    if self._executor is not None:
                        self._executor.shutdown(wait=False)
                        self._executor = None
                    return
                self._arrival.clear()
                await self._arrival.wait()
            await self._wait_for_expected()
            taken = self._take()
            if not taken:
                continue
            flat = [item for submission in taken for item in submission.items]
            self._recent_peaks.append(self._peak)
            self._running_items = len(flat)
            self._peak = self._queued_items() + self._running_items
            self.calls += 1
            self.items += len(flat)
            started = time.monotonic()
            if self._executor is None:  # submitted to after close(): runs all the same
                self._executor = self._new_executor()
            try:
                results = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._run, flat
                )
            except Exception as error:  # run() should not raise; if it does, fail this call only
                self._running_items = 0
                self._free_since = time.monotonic()
                for submission in taken:
                    if not submission.future.done():
                        submission.future.set_exception(error)
                continue
            self._running_items = 0
            self._free_since = time.monotonic()
            run_s = self._free_since - started
            self.busy_s += run_s
            position = 0
            for submission in taken:
                count = len(submission.items)
                if not submission.future.done():  # the caller may have gone
                    submission.future.set_result(
                        Completed(
                            results[position : position + count],
                            started - submission.arrived,
                            run_s,
                        )
                    )
                position += count

    async def _wait_for_expected(self) -> None:
        """Wait until the expected items are here, for at most ``max_wait_s`` from when the wait
        could first begin: the oldest arrival, or the model coming free if that arrived while
        it was busy."""
        target = self._expected()
        deadline = max(self._queue[0].arrived, self._free_since) + self.max_wait_s
        while self._queued_items() < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._arrival.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), remaining)

    def _take(self) -> list[_Submission]:
        """Whole submissions, oldest first, up to max_items (one oversized one goes alone).

        A submission whose caller has gone (its future cancelled) is dropped here, unrun."""
        taken: list[_Submission] = []
        count = 0
        while self._queue and (not taken or count + len(self._queue[0].items) <= self.max_items):
            submission = self._queue.pop(0)
            if submission.future.done():
                self.dropped_items += len(submission.items)
                continue
            taken.append(submission)
            count += len(submission.items)
        return taken
