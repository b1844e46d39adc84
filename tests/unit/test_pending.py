import asyncio

import pytest

from deployments.batching.pending import CallersGone, Pending, unless_all_gone
from deployments.core.messages import TextItem
from deployments.routing.catalog import Hop, Pair, Route


class FakeResponse:
    """Awaitable and cancellable, as a DeploymentResponse is (pure logic: no Ray here)."""

    def __init__(self) -> None:
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.cancelled = False

    def __await__(self):
        return self.future.__await__()

    def cancel(self) -> None:
        self.cancelled = True
        self.future.cancel()


def pending(count: int) -> list[Pending]:
    route = Route(Pair("en", "fr"), (Hop("t5", Pair("en", "fr")),))
    return [Pending(TextItem(text="Hello.", target="fr"), route) for _ in range(count)]


def test_the_result_comes_back_while_a_caller_waits():
    async def scenario():
        response, callers = FakeResponse(), pending(2)
        callers[0].gone.set()
        waiting = asyncio.ensure_future(unless_all_gone(response, callers))
        await asyncio.sleep(0)
        response.future.set_result("done")
        return await waiting, response

    result, response = asyncio.run(scenario())
    assert result == "done" and not response.cancelled


def test_when_every_caller_is_gone_the_call_is_cancelled():
    async def scenario():
        response, callers = FakeResponse(), pending(2)
        waiting = asyncio.ensure_future(unless_all_gone(response, callers))
        await asyncio.sleep(0)
        for caller in callers:
            caller.gone.set()
        with pytest.raises(CallersGone):
            await waiting
        return response

    assert asyncio.run(scenario()).cancelled


def test_a_cancelled_batch_cancels_its_downstream_call():
    async def scenario():
        response = FakeResponse()
        waiting = asyncio.ensure_future(unless_all_gone(response, pending(1)))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return response

    assert asyncio.run(scenario()).cancelled
