"""One table: each error's HTTP status and body in each API dialect the ingress speaks.

A new dialect is a new column here, not a new branch in every handler.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, NamedTuple

from deployments.core.errors import TranslationServiceError


class Dialect(StrEnum):
    NATIVE = "native"
    LIBRETRANSLATE = "libretranslate"


# error code -> status per dialect. LibreTranslate answers every bad request 400, a missing or
# bad key 403 and overload 429 ("Slowdown").
STATUS: dict[str, dict[Dialect, int]] = {
    "invalid_request": {Dialect.NATIVE: 422, Dialect.LIBRETRANSLATE: 400},
    "malformed_json": {Dialect.NATIVE: 400, Dialect.LIBRETRANSLATE: 400},
    "unsupported_target": {Dialect.NATIVE: 422, Dialect.LIBRETRANSLATE: 400},
    "unsupported_source": {Dialect.NATIVE: 422, Dialect.LIBRETRANSLATE: 400},
    "undetectable_source": {Dialect.NATIVE: 422, Dialect.LIBRETRANSLATE: 400},
    "payload_too_large": {Dialect.NATIVE: 413, Dialect.LIBRETRANSLATE: 400},
    "unauthorized": {Dialect.NATIVE: 401, Dialect.LIBRETRANSLATE: 403},
    "overloaded": {Dialect.NATIVE: 503, Dialect.LIBRETRANSLATE: 429},
    "not_ready": {Dialect.NATIVE: 503, Dialect.LIBRETRANSLATE: 503},
    "unavailable": {Dialect.NATIVE: 503, Dialect.LIBRETRANSLATE: 503},
    "model_unavailable": {Dialect.NATIVE: 503, Dialect.LIBRETRANSLATE: 503},
    "deadline_exceeded": {Dialect.NATIVE: 504, Dialect.LIBRETRANSLATE: 504},
    "translation_failed": {Dialect.NATIVE: 500, Dialect.LIBRETRANSLATE: 500},
    "internal_error": {Dialect.NATIVE: 500, Dialect.LIBRETRANSLATE: 500},
}


class ErrorAnswer(NamedTuple):
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def status_of(error: TranslationServiceError, dialect: Dialect = Dialect.NATIVE) -> int:
    return STATUS[error.code][dialect]


def error_answer(error: TranslationServiceError, dialect: Dialect = Dialect.NATIVE) -> ErrorAnswer:
    """The status, body and headers ``error`` is answered with in ``dialect``."""
    if dialect is Dialect.LIBRETRANSLATE:
        message = error.message
        if error.code == "overloaded":
            message = f"Slowdown: {message}"
        body: dict[str, Any] = {"error": message}
    else:
        body = {"error": {"code": error.code, "message": error.message, **error.details}}
    return ErrorAnswer(status_of(error, dialect), body, retry_headers(error))


def retry_headers(error: TranslationServiceError) -> dict[str, str]:
    """``Retry-After`` (whole seconds, rounded up) for errors that know when to retry."""
    retry_after = error.retry_after_s
    return {} if retry_after is None else {"Retry-After": str(max(1, math.ceil(retry_after)))}
