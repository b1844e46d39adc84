"""The ingress deployment: admits, validates and batches texts for the Translator.

It holds no model, only two handles. Every text of every request goes through one
``@serve.batch`` helper, which sends the whole batch to the Translator in one call and the
Translator's answer on to the postprocessor. Around that: API keys, a bound on the texts in
flight (503 + Retry-After past it), a deadline per request (504 when it passes; the Translator
drops expired texts unrun), one retry when a replica dies under a batch (translation is
idempotent), and a JSON error body for every failure.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from ray import serve
from ray.exceptions import RayActorError
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle, DeploymentResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from deployments.admission import AdmissionControl
from deployments.auth import PUBLIC_PATHS, check_authorization, load_api_keys
from deployments.errors import (
    DeadlineExceeded,
    MalformedJSON,
    Overloaded,
    ServiceNotReady,
    TemporarilyUnavailable,
    TranslationFailed,
    TranslationServiceError,
)
from deployments.messages import FinalOutcome, TextItem
from deployments.schemas import (
    HealthResponse,
    TranslateRequest,
    TranslateResponse,
    error_responses,
)
from deployments.settings import IngressSettings
from deployments.validation import (
    check_content,
    describe_validation_errors,
    request_timeout,
    validate_request,
)

logger = logging.getLogger("ray.serve")

api = FastAPI(
    title="Translation service",
    summary="English to French (and every target the checkpoint declares) on Ray Serve.",
    version="0.1.0",
)

# The per-request deadline header, in seconds; documented on every translation route.
TimeoutHeader = Annotated[
    str | None,
    Header(
        alias="X-Request-Timeout",
        description="Seconds this request may take (default and maximum: GET /info).",
    ),
]


@api.exception_handler(TranslationServiceError)
async def _service_error(_: Request, error: TranslationServiceError) -> JSONResponse:
    return JSONResponse(error.to_body(), status_code=error.status_code, headers=error.headers())


@api.exception_handler(RequestValidationError)
async def _schema_error(request: Request, error: RequestValidationError) -> JSONResponse:
    try:
        message, details = describe_validation_errors(list(error.errors()))
    except TranslationServiceError as malformed:
        return await _service_error(request, malformed)
    body = {"error": {"code": "invalid_request", "message": message, "errors": details}}
    return JSONResponse(body, status_code=422)


@api.exception_handler(HTTPException)
async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method, unreadable body) in our shape."""
    if error.status_code == 400:  # FastAPI could not decode the body (not UTF-8 JSON)
        malformed = MalformedJSON("the request body is not valid UTF-8 JSON")
        return await _service_error(request, malformed)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    body = {
        "error": {"code": code, "message": f"{request.method} {request.url.path}: {error.detail}"}
    }
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


@api.exception_handler(Exception)
async def _unexpected_error(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error in a request")
    body = {"error": {"code": "internal_error", "message": "internal error; it has been logged"}}
    return JSONResponse(body, status_code=500)


class _RequireApiKey:
    """With API keys configured, every route but /health needs ``Authorization: Bearer <key>``.

    Plain ASGI rather than ``@api.middleware``: it runs on every request, and Starlette's
    BaseHTTPMiddleware adds a task and a stream per request."""

    def __init__(self, app) -> None:
        self.app = app
        # Starlette builds its middleware on the first request, inside the replica: the keys
        # come from the replica's environment (runtime_env, a mounted secret), not the config.
        self.keys = load_api_keys()

    async def __call__(self, scope, receive, send) -> None:
        keys = self.keys
        if keys and scope["type"] == "http":
            path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
            if path not in PUBLIC_PATHS:
                try:
                    check_authorization(Headers(scope=scope).get("authorization"), keys)
                except TranslationServiceError as refused:
                    response = JSONResponse(refused.to_body(), status_code=refused.status_code)
                    return await response(scope, receive, send)
        await self.app(scope, receive, send)


api.add_middleware(_RequireApiKey)


@dataclass(eq=False)
class _Pending:
    """One text on its way through the batch helper; ``gone`` is set when its caller stops
    waiting (deadline, disconnect). Lives only in this process: the Translator gets ``item``."""

    item: TextItem
    gone: asyncio.Event = field(default_factory=asyncio.Event)


class _CallersGone(Exception):
    """Every caller of a batch stopped waiting, so its downstream call was cancelled."""


async def _unless_all_gone(response: DeploymentResponse, pending: list[_Pending]):
    """The response's result, unless every caller goes first: then cancel it (the Translator
    drops a cancelled batch before the model runs it) and raise _CallersGone."""
    result = asyncio.ensure_future(response)
    all_gone = asyncio.ensure_future(_all_gone(pending))
    try:
        await asyncio.wait({result, all_gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        all_gone.cancel()
    if result.done():
        return result.result()
    response.cancel()
    result.cancel()
    raise _CallersGone


async def _all_gone(pending: list[_Pending]) -> None:
    for p in pending:
        await p.gone.wait()


# Serve pickles the class when the decorator runs, with the module globals defined so far:
# everything the methods use must be defined above this line.
# max_ongoing_requests far above max_batch_size (Serve's default of 5 would cap every batch at
# 5) and above the admission bound, so requests reach the ingress instead of waiting unseen in
# the proxy's queue.
@serve.deployment(
    ray_actor_options={"num_cpus": 0.25, "num_gpus": 0},
    max_ongoing_requests=1024,
    max_queued_requests=1024,
)
@serve.ingress(api)
class TranslationIngress:
    def __init__(self, translator: DeploymentHandle, postprocessor: DeploymentHandle) -> None:
        self._translator = translator
        self._postprocessor = postprocessor
        self._settings = IngressSettings()
        self._admission = AdmissionControl(self._settings.max_pending_texts)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self._settings = IngressSettings.model_validate(user_config)
        self._admission.max_pending = self._settings.max_pending_texts
        self._translate_batch.set_max_batch_size(self._settings.max_batch_size)
        self._translate_batch.set_batch_wait_timeout_s(self._settings.batch_wait_timeout_s)

    # The Python API: serve.get_app_handle("translation").translate.remote(text, target="fr").
    async def translate(
        self, text: str | list[str], target: str = "fr", timeout_s: float | None = None
    ) -> str | list[str]:
        request = validate_request({"text": text, "target": target}, self._settings.limits)
        timeout = self._timeout(None if timeout_s is None else str(timeout_s))
        return await self._translate(request, timeout)

    @api.post(
        "/translate",
        response_model=TranslateResponse,
        responses=error_responses(400, 401, 413, 422, 500, 503, 504),
    )
    async def post_translate(
        self, request: TranslateRequest, x_request_timeout: TimeoutHeader = None
    ) -> TranslateResponse:
        """Translate one text or a list of texts."""
        check_content(request, self._settings.limits)
        timeout = self._timeout(x_request_timeout)
        return TranslateResponse(translation=await self._translate(request, timeout))

    @api.post("/", responses=error_responses(401, 413, 422, 500, 503, 504))
    async def post_query(
        self, text: str, target: str = "fr", x_request_timeout: TimeoutHeader = None
    ) -> str:
        """The tutorial's interface: ``POST /?text=Hello%20world!`` answers a JSON string."""
        request = validate_request({"text": text, "target": target}, self._settings.limits)
        return await self._translate(request, self._timeout(x_request_timeout))

    @api.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
    async def health(self) -> JSONResponse:
        """200 once the whole graph can translate; 503 (with the reason) before."""
        timeout = self._settings.health_timeout_s
        try:
            model, _ = await asyncio.wait_for(
                asyncio.gather(
                    self._translator.describe.remote(), self._postprocessor.ping.remote()
                ),
                timeout,
            )
        except Exception as error:  # a timeout or a dead replica: not ready either way
            timed_out = isinstance(error, asyncio.TimeoutError)
            detail = "timed out" if timed_out else type(error).__name__
            body = HealthResponse(
                status="unavailable", detail=f"translator/postprocessor: {detail}"
            )
            return JSONResponse(body.model_dump(), status_code=503)
        body = HealthResponse(status="ok", model=model["model"], targets=list(model["targets"]))
        return JSONResponse(body.model_dump())

    @api.get("/info", responses=error_responses(503))
    async def info(self) -> dict[str, Any]:
        """The model, its targets and decoding, and the limits and batching now in effect."""
        try:
            model = await asyncio.wait_for(
                self._translator.describe.remote(), self._settings.health_timeout_s
            )
        except Exception as error:
            detail = f"the Translator is not answering: {type(error).__name__}"
            raise ServiceNotReady(detail) from None
        settings = self._settings
        return {
            **model,
            "limits": settings.limits.model_dump(),
            # Both stages' knobs: the ingress's @serve.batch and the Translator's scheduler.
            "batching": {
                "ingress": {
                    "max_batch_size": settings.max_batch_size,
                    "batch_wait_timeout_s": settings.batch_wait_timeout_s,
                },
                "translator": model["batching"],
            },
            "deadlines": {
                "request_timeout_s": settings.request_timeout_s,
                "max_request_timeout_s": settings.max_request_timeout_s,
            },
            "admission": {
                "max_pending_texts": self._admission.max_pending,
                "pending_texts": self._admission.pending,
                "refused_requests": self._admission.refused,
            },
        }

    def _timeout(self, header: str | None) -> float:
        settings = self._settings
        return request_timeout(header, settings.request_timeout_s, settings.max_request_timeout_s)

    async def _translate(self, request: TranslateRequest, timeout_s: float) -> str | list[str]:
        texts = request.texts
        self._admission.admit(len(texts))
        deadline = time.time() + timeout_s
        pending = [_Pending(TextItem(text, request.target, deadline)) for text in texts]
        completed = False
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(self._translate_batch(p) for p in pending)), timeout_s
            )
            completed = True
        except TimeoutError:
            raise DeadlineExceeded(
                f"no translation within this request's deadline of {timeout_s:g} s; "
                "send a longer X-Request-Timeout or fewer texts",
                timeout_s=timeout_s,
            ) from None
        finally:
            self._admission.release(len(texts), completed=completed)
            if not completed:  # timed out, or the client went away (the task was cancelled)
                for p in pending:
                    p.gone.set()
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, TranslationServiceError):
                if isinstance(request.text, str):
                    raise outcome
                # A copy: one error object may stand for every text of a batch.
                raise type(outcome)(outcome.message, **{"index": index, **outcome.details})
        return outcomes[0] if isinstance(request.text, str) else list(outcomes)

    # Several batches in flight, so that they queue (and merge) at the Translator, which runs
    # one model call at a time; max_concurrent_batches cannot change at run time.
    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.0, max_concurrent_batches=64)
    async def _translate_batch(self, pending: list[_Pending]) -> list[FinalOutcome]:
        """Translator, then postprocessor; every failure comes back as one outcome per text."""
        items = [p.item for p in pending]
        try:
            translated = await self._call(
                lambda: self._translator.translate_batch.remote(items), pending
            )
            return await self._call(
                lambda: self._postprocessor.process_batch.remote(items, translated), pending
            )
        except _CallersGone:
            return [DeadlineExceeded("the caller stopped waiting")] * len(items)
        except BackPressureError:
            retry_after = self._admission.retry_after_s()
            error = Overloaded(
                f"the Translator's queue is full; retry in {retry_after} s",
                retry_after_s=retry_after,
            )
            return [error] * len(items)
        except RayActorError:
            error = TemporarilyUnavailable(
                "a replica died while translating this request, and again on the retry; "
                "retry shortly",
                retry_after_s=self._admission.retry_after_s(),
            )
            return [error] * len(items)
        except Exception:
            logger.exception("a batch of %d texts failed", len(items))
            return [TranslationFailed("internal error; it has been logged")] * len(items)

    async def _call(self, send: Callable[[], DeploymentResponse], pending: list[_Pending]):
        """One downstream call, retried once if its replica dies (translation is idempotent);
        cancelled if every caller of the batch stops waiting."""
        try:
            return await _unless_all_gone(send(), pending)
        except RayActorError as died:
            logger.warning("a replica died under %d texts (%s); retrying once", len(pending), died)
            return await _unless_all_gone(send(), pending)
