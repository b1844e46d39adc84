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
    DEEPL = "deepl"


def _statuses(native: int, libretranslate: int, deepl: int) -> dict[Dialect, int]:
    return {Dialect.NATIVE: native, Dialect.LIBRETRANSLATE: libretranslate, Dialect.DEEPL: deepl}


# error code -> status per dialect. LibreTranslate answers every bad request 400, a missing or
# bad key 403 and overload 429 ("Slowdown"); DeepL the same, but 413 for size and 404 for what
# does not exist (its 456, quota exceeded, never: there is no quota).
STATUS: dict[str, dict[Dialect, int]] = {
    "invalid_request": _statuses(422, 400, 400),
    "malformed_json": _statuses(400, 400, 400),
    "unsupported_target": _statuses(422, 400, 400),
    "unsupported_source": _statuses(422, 400, 400),
    "undetectable_source": _statuses(422, 400, 400),
    "payload_too_large": _statuses(413, 400, 413),
    "unauthorized": _statuses(401, 403, 403),
    "overloaded": _statuses(503, 429, 429),
    "not_ready": _statuses(503, 503, 503),
    "unavailable": _statuses(503, 503, 503),
    "model_unavailable": _statuses(503, 503, 503),
    "deadline_exceeded": _statuses(504, 504, 504),
    "not_found": _statuses(404, 404, 404),
    "translation_failed": _statuses(500, 500, 500),
    "internal_error": _statuses(500, 500, 500),
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
    elif dialect is Dialect.DEEPL:
        body = {"message": error.message}
    else:
        body = {"error": {"code": error.code, "message": error.message, **error.details}}
    return ErrorAnswer(status_of(error, dialect), body, retry_headers(error))


def retry_headers(error: TranslationServiceError) -> dict[str, str]:
    """``Retry-After`` (whole seconds, rounded up) for errors that know when to retry."""
    retry_after = error.retry_after_s
    return {} if retry_after is None else {"Retry-After": str(max(1, math.ceil(retry_after)))}
