"""Every error the service answers with, each carrying its HTTP status.

Raised in the ingress (validation) or returned per item from a batch (a failure that belongs to
one text, never to its batch neighbours). They cross process boundaries through Ray, so each is
picklable from its message and fields alone.
"""

from __future__ import annotations

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
