"""Every error the service answers with, each carrying its HTTP status.

Raised in the ingress (validation) or returned per item from a batch (a failure that belongs to
one text, never to its batch neighbours). They cross process boundaries through Ray, so each is
picklable from its message and fields alone.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar


class TranslationServiceError(Exception):
    """Base class: a status code, a stable machine-readable code, a message for people."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __reduce__(self):
        return _rebuild, (type(self), self.message, self.details)

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}

    def headers(self) -> dict[str, str]:
        """``Retry-After`` (whole seconds, rounded up) for errors that know when to retry."""
        retry_after = self.details.get("retry_after_s")
        return {} if retry_after is None else {"Retry-After": str(max(1, math.ceil(retry_after)))}


def _rebuild(cls: type[TranslationServiceError], message: str, details: dict[str, Any]):
    return cls(message, **details)


class InvalidRequest(TranslationServiceError):
    """The request does not match the schema: wrong type, empty text, malformed JSON."""

    status_code = 422
    code = "invalid_request"


class MalformedJSON(InvalidRequest):
    status_code = 400
    code = "malformed_json"


class UnsupportedTarget(InvalidRequest):
    code = "unsupported_target"


class PayloadTooLarge(TranslationServiceError):
    """Over a configured limit; ``limit`` and ``actual`` say by how much."""

    status_code = 413
    code = "payload_too_large"


class ServiceNotReady(TranslationServiceError):
    status_code = 503
    code = "not_ready"


class TranslationFailed(TranslationServiceError):
    """The model raised on this item; its batch neighbours are unaffected."""

    status_code = 500
    code = "translation_failed"


class Unauthorized(TranslationServiceError):
    """API keys are configured and the request did not carry a valid one."""

    status_code = 401
    code = "unauthorized"


class Overloaded(TranslationServiceError):
    """More texts are in flight than the service admits; ``retry_after_s`` says when to retry."""

    status_code = 503
    code = "overloaded"


class DeadlineExceeded(TranslationServiceError):
    """The request's deadline passed before its translation was ready; the work was dropped."""

    status_code = 504
    code = "deadline_exceeded"


class TemporarilyUnavailable(TranslationServiceError):
    """A replica died under the request and the one retry failed too; safe to retry later."""

    status_code = 503
    code = "unavailable"
