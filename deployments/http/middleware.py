"""The ingress's ASGI middleware, outermost first: ``Observe`` (request id, timing headers,
request metrics) and ``RequireApiKey`` (the optional API keys, LibreTranslate's ``api_key`` in
the body and DeepL's ``DeepL-Auth-Key`` included).

Plain ASGI rather than Starlette's BaseHTTPMiddleware, which adds a task and a stream to every
request on a benchmarked path.
"""

from __future__ import annotations

import asyncio
import time

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Scope

from deployments.core.errors import TranslationServiceError, Unauthorized
from deployments.core.metrics import IngressMetrics
from deployments.core.observability import (
    NO_TARGET,
    REPLACED_ID_HEADER,
    REQUEST_ID_HEADER,
    request_id_or_new,
    timing_headers,
)
from deployments.http import libretranslate
from deployments.http.auth import (
    PUBLIC_PATHS,
    check_authorization,
    deepl_key,
    is_valid_key,
    legacy_deepl_key,
    load_api_keys,
)
from deployments.http.errors import Dialect, error_answer

# Where the ingress keeps what it learns about a request, for its timing headers and metrics.
TRACE_KEY = "translation.trace"


class Trace:
    """One request as the ingress sees it: its id, and what the metrics and headers report."""

    __slots__ = ("api", "code", "model_s", "queue_s", "request_id", "target")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.api = "native"  # or "libretranslate", "deepl" (http/errors.py Dialect)
        self.target = NO_TARGET  # a bounded metric tag, see observability.target_tag
        self.code: str | None = None  # the error code, when the answer is an error
        self.queue_s: float | None = None
        self.model_s: float | None = None


def trace_of(scope: Scope) -> Trace:
    """The request's Trace (a new one where Observe did not run: tests calling the app)."""
    trace = scope.get(TRACE_KEY)
    if trace is None:
        trace = scope[TRACE_KEY] = Trace(request_id_or_new(None)[0])
    return trace


def _path(scope) -> str:
    return scope["path"].removeprefix(scope.get("root_path", "")) or "/"


# Routes where LibreTranslate's clients send their api_key in the body.
_LIBRE_POSTS = frozenset({"/translate", "/detect"})
# A LibreTranslate body is read whole to find its api_key; past this, it is not looked at.
_MAX_KEYED_BODY_BYTES = 1 << 20


class RequireApiKey:
    """With API keys configured, every route but /health and /languages needs
    ``Authorization: Bearer <key>``, or (LibreTranslate's way) ``api_key`` in a LibreTranslate
    body sent to ``POST /translate`` or ``POST /detect`` without that header.

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
            if path.startswith("/v2/"):
                return await self._deepl(scope, receive, send, headers)
            if authorization is None and path in _LIBRE_POSTS and scope["method"] == "POST":
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
                reply = error_answer(refused)
                response = JSONResponse(reply.body, status_code=reply.status)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)

    async def _deepl(self, scope, receive, send, headers: Headers) -> None:
        """DeepL's way: ``Authorization: DeepL-Auth-Key <key>``, or (its legacy) ``auth_key``
        in the form or the query string; refused with DeepL's 403."""
        key = deepl_key(headers.get("authorization"))
        if key is None:
            query = scope.get("query_string", b"").decode("latin-1")
            body = b""
            if scope["method"] == "POST":
                body = await _read_whole(receive, _MAX_KEYED_BODY_BYTES) or b""
                receive = _replay(body, receive)
            key = legacy_deepl_key(body, headers.get("content-type"), query)
        if is_valid_key(key, self.keys):
            return await self.app(scope, receive, send)
        message = (
            "Authorization failure: the key is not one of this service's"
            if key
            else "Authorization failure: send the header 'Authorization: DeepL-Auth-Key <key>'"
        )
        _note_scope_error(scope, Unauthorized.code, api=Dialect.DEEPL)
        reply = error_answer(Unauthorized(message), Dialect.DEEPL)
        await JSONResponse(reply.body, status_code=reply.status)(scope, receive, send)

    @staticmethod
    async def _refuse_libre(scope, receive, send, key: str | None) -> None:
        message = (
            "Invalid API key" if key else "Please contact the server operator to get an API key"
        )
        reply = error_answer(Unauthorized(message), Dialect.LIBRETRANSLATE)
        _note_scope_error(scope, Unauthorized.code, api=Dialect.LIBRETRANSLATE)
        await JSONResponse(reply.body, status_code=reply.status)(scope, receive, send)


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
_ROUTES = frozenset(
    {"/translate", "/detect", "/", "/languages", "/health", "/info", "/docs", "/openapi.json"}
    | {"/v2/translate", "/v2/languages", "/v2/usage"}
)


class Observe:
    """Outermost: the request's id, timing headers on every response, request metrics.

    Serve's proxy has put the caller's ``X-Request-ID`` (or a new UUID) in the headers and
    echoes it on the response; an id the graph cannot use (see observability.py) is replaced
    here, and the replacement sent back in ``X-Request-ID-Replaced-By``."""

    def __init__(self, app) -> None:
        self.app = app
        self.metrics = IngressMetrics()

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
