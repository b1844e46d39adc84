"""A batch's downstream calls from the ingress: each text's waiting caller, cancelling a call
that nobody waits for any more, and the outcome of a batch that failed as a whole."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ray.exceptions import RayActorError
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentResponse, DeploymentResponseGenerator

from deployments.core.errors import (
    DeadlineExceeded,
    Overloaded,
    TemporarilyUnavailable,
    TranslationFailed,
    TranslationServiceError,
)
from deployments.core.messages import TextItem
from deployments.routing.catalog import Route


@dataclass(eq=False)
class Pending:
    """One text on its way through the batch helper, with the models that translate it;
    ``gone`` is set when its caller stops waiting (deadline, disconnect). Lives only in this
    process: the Translator gets ``item``."""

    item: TextItem
    route: Route
    gone: asyncio.Event = field(default_factory=asyncio.Event)


class CallersGone(Exception):
    """Every caller of a batch stopped waiting, so its downstream call was cancelled."""


# What a handle call gives back; the graph's calls never stream.
Sent = DeploymentResponse | DeploymentResponseGenerator


def one_result(sent: Sent) -> DeploymentResponse:
    if not isinstance(sent, DeploymentResponse):
        raise TypeError("a streaming response where one result was expected")
    return sent


async def unless_all_gone(response: DeploymentResponse, pending: list[Pending]) -> Any:
    """The response's result, unless every caller goes first: then cancel it (the Translator
    drops a cancelled batch before the model runs it) and raise CallersGone."""
    result = asyncio.ensure_future(response)
    all_gone = asyncio.ensure_future(_all_gone(pending))
    try:
        await asyncio.wait({result, all_gone}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # This batch was cancelled itself (the replica stopping): so is its downstream call,
        # whose outcome nobody would read.
        response.cancel()
        result.cancel()
        raise
    finally:
        all_gone.cancel()
    if result.done():
        return result.result()
    response.cancel()
    result.cancel()
    raise CallersGone


async def _all_gone(pending: list[Pending]) -> None:
    for p in pending:
        await p.gone.wait()


def batch_failure(error: Exception, retry_after_s: Callable[[], int]) -> TranslationServiceError:
    """The error every text of a batch gets when its downstream calls failed as a whole."""
    if isinstance(error, CallersGone):
        return DeadlineExceeded("the caller stopped waiting")
    if isinstance(error, BackPressureError):
        retry_after = retry_after_s()
        return Overloaded(
            f"the Translator's queue is full; retry in {retry_after} s",
            retry_after_s=retry_after,
        )
    if isinstance(error, RayActorError):
        return TemporarilyUnavailable(
            "a replica died while translating this request, and again on the retry; retry shortly",
            retry_after_s=retry_after_s(),
        )
    return TranslationFailed("internal error; it has been logged")
