"""The Translator's batch scheduler, with a fake model: merging, adaptive waits, isolation."""

import asyncio
import threading
import time

import pytest

from deployments.batching.scheduler import BatchScheduler


class FakeModel:
    """Records each call; takes ``seconds`` per call, like a model would."""

    def __init__(self, seconds: float = 0.0, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.seconds = seconds
        self.fail_on = fail_on
        self.threads: set[threading.Thread] = set()

    def __call__(self, items: list[str]) -> list[str]:
        self.threads.add(threading.current_thread())
        self.calls.append(list(items))
        if self.fail_on in items:
            raise RuntimeError("boom")
        time.sleep(self.seconds)
        return [item.upper() for item in items]


def run(coroutine):
    return asyncio.run(coroutine)


def test_each_submission_gets_its_own_results_in_order():
    model = FakeModel()

    async def main():
        scheduler = BatchScheduler(model, max_items=8, max_wait_s=0)
        return await asyncio.gather(
            scheduler.submit(["a", "b"]), scheduler.submit(["c"]), scheduler.submit(["d", "e"])
        )

    assert run(main()) == [["A", "B"], ["C"], ["D", "E"]]
    assert sorted(item for call in model.calls for item in call) == list("abcde")


def test_batches_queued_behind_a_busy_model_merge_into_one_call():
    model = FakeModel(seconds=0.2)

    async def main():
        scheduler = BatchScheduler(model, max_items=32, max_wait_s=0)
        first = asyncio.create_task(scheduler.submit(["first"]))
        await asyncio.sleep(0.05)  # the model is now busy with "first"
        rest = [asyncio.create_task(scheduler.submit([f"t{i}"])) for i in range(10)]
        await asyncio.gather(first, *rest)

    run(main())
    assert model.calls[0] == ["first"]
    assert model.calls[1] == [f"t{i}" for i in range(10)]
    assert len(model.calls) == 2
    assert model.threads == {next(iter(model.threads))}  # one worker thread, always the same


def test_calls_never_exceed_max_items_and_an_oversized_submission_goes_alone():
    model = FakeModel(seconds=0.05)

    async def main():
        scheduler = BatchScheduler(model, max_items=4, max_wait_s=0)
        blocker = asyncio.create_task(scheduler.submit(["x"]))
        await asyncio.sleep(0.01)
        tasks = [asyncio.create_task(scheduler.submit([f"{i}a", f"{i}b"])) for i in range(5)]
        big = asyncio.create_task(scheduler.submit([f"big{i}" for i in range(6)]))
        await asyncio.gather(blocker, *tasks, big)

    run(main())
    sizes = [len(call) for call in model.calls]
    assert all(size <= 4 for size in sizes if size != 6)
    assert 6 in sizes


def test_a_lone_client_never_waits():
    model = FakeModel()

    async def main():
        scheduler = BatchScheduler(model, max_items=32, max_wait_s=1.0)
        started = time.monotonic()
        for _ in range(3):
            await scheduler.submit(["alone"])
        return time.monotonic() - started

    assert run(main()) < 0.5  # three calls; a wait would have cost a second each


def test_after_a_full_cohort_the_scheduler_waits_for_it_to_come_back():
    """32 clients that return a few ms apart go into one call, not a small one and a big one."""
    model = FakeModel(seconds=0.02)

    async def client(scheduler, name, delay):
        await asyncio.sleep(delay)
        return await scheduler.submit([name])

    async def main():
        scheduler = BatchScheduler(model, max_items=32, max_wait_s=0.5)
        # Round one: everyone arrives at once.
        await asyncio.gather(*(client(scheduler, f"a{i}", 0) for i in range(32)))
        # Round two: the same 32 come back spread over 60 ms.
        await asyncio.gather(*(client(scheduler, f"b{i}", i * 0.002) for i in range(32)))

    run(main())
    assert [len(call) for call in model.calls[-1:]] == [32]
    round_two = [call for call in model.calls if call[0].startswith("b")]
    assert len(round_two) == 1


def test_the_wait_is_bounded_when_fewer_come_back():
    model = FakeModel()

    async def main():
        scheduler = BatchScheduler(model, max_items=32, max_wait_s=0.1)
        await asyncio.gather(*(scheduler.submit([f"a{i}"]) for i in range(8)))
        started = time.monotonic()
        await scheduler.submit(["lonely"])  # expected 8, only 1 comes: wait max_wait_s, then go
        return time.monotonic() - started

    waited = run(main())
    assert 0.09 <= waited < 0.6


def test_a_failing_call_fails_only_its_own_submissions():
    model = FakeModel(seconds=0.05, fail_on="bad")

    async def main():
        scheduler = BatchScheduler(model, max_items=1, max_wait_s=0)
        results = await asyncio.gather(
            scheduler.submit(["good"]),
            scheduler.submit(["bad"]),
            scheduler.submit(["fine"]),
            return_exceptions=True,
        )
        return results

    good, bad, fine = run(main())
    assert good == ["GOOD"] and fine == ["FINE"]
    assert isinstance(bad, RuntimeError)


def test_configure_changes_limits_for_the_next_call():
    model = FakeModel(seconds=0.05)

    async def main():
        scheduler = BatchScheduler(model, max_items=32, max_wait_s=0)
        blocker = asyncio.create_task(scheduler.submit(["x"]))
        await asyncio.sleep(0.01)
        scheduler.configure(max_items=2, max_wait_s=0)
        await asyncio.gather(blocker, *(scheduler.submit([str(i)]) for i in range(6)))

    run(main())
    assert max(len(call) for call in model.calls) == 2


@pytest.mark.parametrize("items", [[], ()])
def test_an_empty_submission_returns_at_once(items):
    async def main():
        return await BatchScheduler(FakeModel()).submit(items)

    assert run(main()) == []


def test_a_submission_whose_caller_has_gone_is_never_run():
    model = FakeModel(seconds=0.2)

    async def main():
        scheduler = BatchScheduler(model, max_items=8, max_wait_s=0)
        first = asyncio.create_task(scheduler.submit(["busy"]))
        await asyncio.sleep(0.05)  # the model is busy with "busy"
        gone = asyncio.create_task(scheduler.submit(["gone"]))
        kept = asyncio.create_task(scheduler.submit(["kept"]))
        await asyncio.sleep(0.01)
        gone.cancel()  # as Serve does when the caller cancels its handle call
        results = await asyncio.gather(first, kept)
        return results, scheduler.stats()

    results, stats = run(main())
    assert results == [["BUSY"], ["KEPT"]]
    assert model.calls == [["busy"], ["kept"]]
    assert stats.dropped_items == 1


def test_each_submission_learns_its_queue_wait_and_its_model_calls_time():
    model = FakeModel(seconds=0.2)

    async def main():
        scheduler = BatchScheduler(model, max_items=32, max_wait_s=0)
        first = asyncio.create_task(scheduler.submit_timed(["first"]))
        await asyncio.sleep(0.05)  # the model is now busy with "first"
        second = asyncio.create_task(scheduler.submit_timed(["second", "third"]))
        return await first, await second

    first, second = run(main())
    assert (first.results, second.results) == (["FIRST"], ["SECOND", "THIRD"])
    # Lower bounds only: the fake model sleeps 0.2 s a call, whatever the machine's speed.
    assert first.run_s >= 0.2 and second.run_s >= 0.2
    assert second.queued_s >= 0.1  # it waited for "first" to finish
    assert 0 <= first.queued_s <= first.queued_s + first.run_s


def test_a_closed_scheduler_runs_what_is_queued_then_its_thread_ends():
    model = FakeModel(seconds=0.1)

    async def main():
        scheduler = BatchScheduler(model, max_items=1, max_wait_s=0)
        first = asyncio.ensure_future(scheduler.submit(["a"]))
        await asyncio.sleep(0.02)  # "a" is running; "b" queues behind it
        second = asyncio.ensure_future(scheduler.submit(["b"]))
        await asyncio.sleep(0)
        scheduler.close()
        results = await asyncio.gather(first, second)
        await asyncio.sleep(0.05)
        worker_done = scheduler._worker is not None and scheduler._worker.done()
        late = await scheduler.submit(["c"])  # a batch that held the model before it closed
        return results, worker_done, late

    results, worker_done, late = run(main())
    assert results == [["A"], ["B"]] and late == ["C"]
    assert worker_done
    # Nothing is left holding the model: every thread that ran it ends.
    for thread in model.threads:
        thread.join(timeout=5)
        assert not thread.is_alive()
