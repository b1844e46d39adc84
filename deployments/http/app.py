"""The ingress's FastAPI app: every error answered as JSON, the middleware, OpenAPI helpers.

The routes are methods of the ingress deployment (deployments/ingress.py), declared on ``api``;
the middleware is deployments/http/middleware.py.
"""

import logging
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from deployments.core.errors import InvalidRequest, MalformedJSON, NotFound, TranslationServiceError
from deployments.http import deepl, libretranslate
from deployments.http.bodies import FORM_CONTENT_TYPE, is_form, is_json, parse_json
from deployments.http.errors import Dialect, error_answer
from deployments.http.middleware import TRACE_KEY, Observe, RequireApiKey
from deployments.http.native import ErrorResponse, TranslateRequest, TranslateResponse
from deployments.http.validation import describe_validation_errors

logger = logging.getLogger("ray.serve")

api = FastAPI(
    title="Translation service",
    summary="English to French (and every target the checkpoint declares) on Ray Serve.",
    version="0.1.0",
)

# DeepL's API v2 lives under this prefix, with its own error shape.
DEEPL_PREFIX = "/v2/"

# The per-request deadline header, in seconds; documented on every translation route.
TimeoutHeader = Annotated[
    str | None,
    Header(
        alias="X-Request-Timeout",
        description="Seconds this request may take (default and maximum: GET /info).",
    ),
]


def _note_error(request: Request, code: str) -> None:
    trace = request.scope.get(TRACE_KEY)
    if trace is not None:
        trace.code = code


@api.exception_handler(TranslationServiceError)
async def _service_error(request: Request, error: TranslationServiceError) -> JSONResponse:
    _note_error(request, error.code)
    reply = error_answer(error)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


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
    """Starlette's own errors (unknown route, wrong method, unreadable body) in our shape, or
    DeepL's under its /v2/ (its SDKs read ``message``)."""
    if error.status_code == 400:  # FastAPI could not decode the body (not UTF-8 JSON)
        malformed = MalformedJSON("the request body is not valid UTF-8 JSON")
        return await _service_error(request, malformed)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    _note_error(request, code)
    message = f"{request.method} {request.url.path}: {error.detail}"
    if request.url.path.startswith(DEEPL_PREFIX):
        if error.status_code == 404:
            message += "; this service has /v2/translate, /v2/languages and /v2/usage"
        reply = error_answer(NotFound(message), Dialect.DEEPL)
        return JSONResponse(reply.body, status_code=error.status_code, headers=error.headers)
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


@api.exception_handler(Exception)
async def _unexpected_error(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error in a request")
    body = {"error": {"code": "internal_error", "message": "internal error; it has been logged"}}
    return JSONResponse(body, status_code=500)


api.add_middleware(RequireApiKey)
api.add_middleware(Observe)  # added last, so outermost: it sees every answer, 401s included


async def read_payload(request: Request) -> tuple[Any, bool]:
    """The body of ``POST /translate``: (JSON value or form fields, whether it was a form)."""
    content_type = request.headers.get("content-type")
    if is_form(content_type):
        return libretranslate.parse_form(await request.body()), True
    if is_json(content_type):
        return parse_json(await request.body()), False
    raise InvalidRequest(
        f"body: content-type {(content_type or '')[:60]!r} is not supported; send JSON "
        f"(application/json) or a LibreTranslate form ({FORM_CONTENT_TYPE})"
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
            FORM_CONTENT_TYPE: {"schema": _schema(libretranslate.LibreTranslateRequest)},
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


# POST /v2/translate reads its body itself (JSON, or a form where ``text`` repeats).
DEEPL_TRANSLATE_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": _schema(deepl.DeepLTranslateRequest)}
            for media in ("application/json", FORM_CONTENT_TYPE)
        },
    }
}


def deepl_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: DeepL's error body (``{"message": ...}``) for each status."""
    return {status: {"model": deepl.DeepLError} for status in statuses}
