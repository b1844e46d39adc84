"""The ingress's HTTP layer: the FastAPI app, its error handlers and its ASGI middleware.

The routes themselves are methods of the ingress deployment (deployments/ingress.py), declared
on ``api`` from here. What lives here runs around them on every request:

- every error, ours or Starlette's, answered as JSON (``{"error": {"code", "message", ...}}``);
- ``RequireApiKey``: the optional API keys (deployments/auth.py), including LibreTranslate's
  ``api_key`` in the body;
- ``Observe`` (outermost): the request id, timing headers on every response, request metrics.

Both middlewares are plain ASGI: Starlette's BaseHTTPMiddleware adds a task and a stream to
every request, and this path is benchmarked.
"""

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from deployments import libretranslate
from deployments.auth import PUBLIC_PATHS, check_authorization, is_valid_key, load_api_keys
from deployments.errors import (
    InvalidRequest,
    MalformedJSON,
    TranslationServiceError,
    Unauthorized,
)
from deployments.metrics import Metrics
from deployments.observability import (
    NO_TARGET,
    REPLACED_ID_HEADER,
    REQUEST_ID_HEADER,
    request_id_or_new,
    timing_headers,
)
from deployments.schemas import ErrorResponse, TranslateRequest, TranslateResponse
from deployments.validation import describe_validation_errors

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


# Where the ingress keeps what it learns about a request, for its timing headers and metrics.
TRACE_KEY = "translation.trace"


class Trace:
    """One request as the ingress sees it: its id, and what the metrics and headers report."""

    __slots__ = ("api", "code", "model_s", "queue_s", "request_id", "target")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.api = "native"  # or "libretranslate"
        self.target = NO_TARGET  # a bounded metric tag, see observability.target_tag
        self.code: str | None = None  # the error code, when the answer is an error
        self.queue_s: float | None = None
        self.model_s: float | None = None


def trace_of(request: Request) -> Trace:
    trace = request.scope.get(TRACE_KEY)
    if trace is None:  # not through _Observe (tests calling the app directly)
        trace = request.scope[TRACE_KEY] = Trace(request_id_or_new(None)[0])
    return trace


def _note_error(request: Request, code: str) -> None:
    trace = request.scope.get(TRACE_KEY)
    if trace is not None:
        trace.code = code


@api.exception_handler(TranslationServiceError)
async def _service_error(request: Request, error: TranslationServiceError) -> JSONResponse:
    _note_error(request, error.code)
    return JSONResponse(error.to_body(), status_code=error.status_code, headers=error.headers())


@api.exception_handler(RequestValidationError)
async def _schema_error(request: Request, error: RequestValidationError) -> JSONResponse:
    try:
        message, details = describe_validation_errors(list(error.errors()))
    except TranslationServiceError as malformed:
        return await _service_error(request, malformed)
    body = {"error": {"code": "invalid_request", "message": message, "errors": details}}
    _note_error(request, "invalid_request")
    return JSONResponse(body, status_code=422)


@api.exception_handler(HTTPException)
async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method, unreadable body) in our shape."""
    if error.status_code == 400:  # FastAPI could not decode the body (not UTF-8 JSON)
        malformed = MalformedJSON("the request body is not valid UTF-8 JSON")
        return await _service_error(request, malformed)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    _note_error(request, code)
    body = {
        "error": {"code": code, "message": f"{request.method} {request.url.path}: {error.detail}"}
    }
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


@api.exception_handler(Exception)
async def _unexpected_error(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error in a request")
    body = {"error": {"code": "internal_error", "message": "internal error; it has been logged"}}
    return JSONResponse(body, status_code=500)


def _path(scope) -> str:
    return scope["path"].removeprefix(scope.get("root_path", "")) or "/"


# A LibreTranslate body is read whole to find its api_key; past this, it is not looked at.
_MAX_KEYED_BODY_BYTES = 1 << 20


class _RequireApiKey:
    """With API keys configured, every route but /health and /languages needs
    ``Authorization: Bearer <key>``, or (LibreTranslate's way) ``api_key`` in a LibreTranslate
    body sent to ``POST /translate`` without that header.

    Plain ASGI rather than ``@api.middleware``: it runs on every request, and Starlette's
    BaseHTTPMiddleware adds a task and a stream per request."""

    def __init__(self, app) -> None:
        self.app = app
        # Starlette builds its middleware on the first request, inside the replica: the keys
        # come from the replica's environment (runtime_env, a mounted secret), not the config.
        self.keys = load_api_keys()

    async def __call__(self, scope, receive, send) -> None:
        keys = self.keys
        if keys and scope["type"] == "http" and (path := _path(scope)) not in PUBLIC_PATHS:
            headers = Headers(scope=scope)
            authorization = headers.get("authorization")
            if authorization is None and path == "/translate" and scope["method"] == "POST":
                body = await _read_whole(receive, _MAX_KEYED_BODY_BYTES)
                receive = _replay(body, receive)
                libre, key = libretranslate.api_key_in(body or b"", headers.get("content-type"))
                if libre:
                    if is_valid_key(key, keys):
                        return await self.app(scope, receive, send)
                    return await self._refuse_libre(scope, receive, send, key)
            try:
                check_authorization(authorization, keys)
            except TranslationServiceError as refused:
                _note_scope_error(scope, refused.code)
                response = JSONResponse(refused.to_body(), status_code=refused.status_code)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse_libre(scope, receive, send, key: str | None) -> None:
        message = (
            "Invalid API key" if key else "Please contact the server operator to get an API key"
        )
        status, body, _ = libretranslate.error_answer(Unauthorized(message))
        _note_scope_error(scope, Unauthorized.code, api="libretranslate")
        await JSONResponse(body, status_code=status)(scope, receive, send)


def _note_scope_error(scope, code: str, api: str | None = None) -> None:
    trace = scope.get(TRACE_KEY)
    if trace is not None:
        trace.code = code
        if api:
            trace.api = api


async def _read_whole(receive, limit: int) -> bytes | None:
    """The request body, or None past ``limit`` bytes (or if the client went away)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes | None, receive):
    """A ``receive`` that gives the app the body already read, then waits on the real one
    (which says when the client disconnects)."""
    sent = False

    async def replaying():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}
        return await receive()

    return replaying


# Route tags for the metrics: the app's routes, and "other" for anything a client made up.
_ROUTES = frozenset({"/translate", "/", "/languages", "/health", "/info", "/docs", "/openapi.json"})


class _Observe:
    """Outermost: the request's id, timing headers on every response, request metrics.

    Serve's proxy has put the caller's ``X-Request-ID`` (or a new UUID) in the headers and
    echoes it on the response; an id the graph cannot use (see observability.py) is replaced
    here, and the replacement sent back in ``X-Request-ID-Replaced-By``."""

    def __init__(self, app) -> None:
        self.app = app
        self.metrics = Metrics(
            "translation_requests",
            "translation_request_seconds",
            "translation_errors",
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        caller_id = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_HEADER:
                caller_id = value.decode("latin-1")
                break
        request_id, replaced = request_id_or_new(caller_id)
        trace = scope[TRACE_KEY] = Trace(request_id)
        status = 500

        async def send_with_timing(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers += timing_headers(
                    time.perf_counter() - started, trace.queue_s, trace.model_s
                )
                if replaced:
                    headers.append((_REPLACED_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        except asyncio.CancelledError:
            status = 499  # the client went away before the answer (nginx's code for it)
            raise
        finally:
            self._record(_path(scope), trace, status, time.perf_counter() - started)

    def _record(self, path: str, trace: Trace, status: int, seconds: float) -> None:
        route = path if path in _ROUTES else "other"
        tags = {"route": route, "api": trace.api, "target": trace.target}
        self.metrics.requests.inc(tags={**tags, "status": str(status)})
        self.metrics.request_seconds.observe(seconds, tags=tags)
        if status >= 400:
            code = trace.code or f"http_{status}"
            self.metrics.errors.inc(tags={"target": trace.target, "code": code, "stage": "ingress"})


_REQUEST_ID_HEADER = REQUEST_ID_HEADER.encode()
_REPLACED_ID_HEADER = REPLACED_ID_HEADER.encode()

api.add_middleware(_RequireApiKey)
api.add_middleware(_Observe)  # added last, so outermost: it sees every answer, 401s included


async def read_payload(request: Request) -> tuple[Any, bool]:
    """The body of ``POST /translate``: (JSON value or form fields, whether it was a form)."""
    content_type = request.headers.get("content-type")
    if libretranslate.is_form(content_type):
        return libretranslate.parse_form(await request.body()), True
    if libretranslate.is_json(content_type):
        return libretranslate.parse_json(await request.body()), False
    raise InvalidRequest(
        f"body: content-type {content_type[:60]!r} is not supported; send JSON "
        f"(application/json) or a LibreTranslate form ({libretranslate.FORM_CONTENT_TYPE})"
    )


def _schema(model) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


# POST /translate reads its body itself (two shapes, JSON or form): describe both for OpenAPI.
TRANSLATE_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _schema(TranslateRequest),
                        _schema(libretranslate.LibreTranslateRequest),
                    ]
                }
            },
            libretranslate.FORM_CONTENT_TYPE: {
                "schema": _schema(libretranslate.LibreTranslateRequest)
            },
        },
    }
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: each status answers our error body, or LibreTranslate's for its requests."""
    either = {"oneOf": [_schema(ErrorResponse), _schema(libretranslate.LibreTranslateError)]}
    answers: dict[int | str, dict[str, Any]] = {
        status: {"content": {"application/json": {"schema": either}}} for status in statuses
    }
    answers[200] = {
        "description": "Our shape for our request, LibreTranslate's for LibreTranslate's.",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _schema(TranslateResponse),
                        _schema(libretranslate.LibreTranslateResponse),
                    ]
                }
            }
        },
    }
    return answers
