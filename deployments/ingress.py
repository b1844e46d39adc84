"""The ingress deployment: validates requests and batches texts for the Translator.

It holds no model, only two handles. Every text of every request goes through one
``@serve.batch`` helper, which sends the whole batch to the Translator in one call and passes the
Translator's (not yet awaited) response straight into the postprocessor's call.
"""

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.errors import ServiceNotReady, TranslationServiceError
from deployments.messages import FinalOutcome, TextItem
from deployments.schemas import (
    HealthResponse,
    TranslateRequest,
    TranslateResponse,
    error_responses,
)
from deployments.settings import IngressSettings
from deployments.validation import check_content, describe_validation_errors, validate_request

api = FastAPI(
    title="Translation service",
    summary="English to French (and every target the checkpoint declares) on Ray Serve.",
    version="0.1.0",
)


@api.exception_handler(TranslationServiceError)
async def _service_error(_: Request, error: TranslationServiceError) -> JSONResponse:
    return JSONResponse(error.to_body(), status_code=error.status_code)


@api.exception_handler(RequestValidationError)
async def _schema_error(request: Request, error: RequestValidationError) -> JSONResponse:
    try:
        message, details = describe_validation_errors(list(error.errors()))
    except TranslationServiceError as malformed:
        return await _service_error(request, malformed)
    body = {"error": {"code": "invalid_request", "message": message, "errors": details}}
    return JSONResponse(body, status_code=422)


# max_ongoing_requests >= max_batch_size, or Serve's default of 5 caps every batch at 5.
@serve.deployment(ray_actor_options={"num_cpus": 0.25, "num_gpus": 0}, max_ongoing_requests=64)
@serve.ingress(api)
class TranslationIngress:
    def __init__(self, translator: DeploymentHandle, postprocessor: DeploymentHandle) -> None:
        self._translator = translator
        self._postprocessor = postprocessor
        self._settings = IngressSettings()

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self._settings = IngressSettings.model_validate(user_config)
        self._translate_batch.set_max_batch_size(self._settings.max_batch_size)
        self._translate_batch.set_batch_wait_timeout_s(self._settings.batch_wait_timeout_s)

    # The Python API: serve.get_app_handle("translation").translate.remote(text, target="fr").
    async def translate(self, text: str | list[str], target: str = "fr") -> str | list[str]:
        request = validate_request({"text": text, "target": target}, self._settings.limits)
        return await self._translate(request)

    @api.post(
        "/translate",
        response_model=TranslateResponse,
        responses=error_responses(400, 413, 422, 500, 503),
    )
    async def post_translate(self, request: TranslateRequest) -> TranslateResponse:
        """Translate one text or a list of texts."""
        check_content(request, self._settings.limits)
        return TranslateResponse(translation=await self._translate(request))

    @api.post("/", responses=error_responses(413, 422, 500, 503))
    async def post_query(self, text: str, target: str = "fr") -> str:
        """The tutorial's interface: ``POST /?text=Hello%20world!`` answers a JSON string."""
        request = validate_request({"text": text, "target": target}, self._settings.limits)
        return await self._translate(request)

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
        return {
            **model,
            "limits": self._settings.limits.model_dump(),
            "batching": {
                "max_batch_size": self._settings.max_batch_size,
                "batch_wait_timeout_s": self._settings.batch_wait_timeout_s,
            },
        }

    async def _translate(self, request: TranslateRequest) -> str | list[str]:
        outcomes = await asyncio.gather(
            *(self._translate_batch(TextItem(text, request.target)) for text in request.texts)
        )
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, TranslationServiceError):
                if not isinstance(request.text, str):
                    outcome.details.setdefault("index", index)
                raise outcome
        return outcomes[0] if isinstance(request.text, str) else list(outcomes)

    # Several batches in flight, so that they queue (and merge) at the Translator, which runs
    # one model call at a time; max_concurrent_batches cannot change at run time.
    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.0, max_concurrent_batches=64)
    async def _translate_batch(self, items: list[TextItem]) -> list[FinalOutcome]:
        translated = self._translator.translate_batch.remote(items)
        return await self._postprocessor.process_batch.remote(items, translated)
