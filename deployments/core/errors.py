"""Every error the service answers with: a stable code, a message for people, its details.

Raised in the ingress (validation) or returned per item from a batch (a failure that belongs to
one text, never to its batch neighbours). They cross process boundaries through Ray, so each is
picklable from its message and fields alone. The status and body each API dialect answers them
with is one table, deployments/http/errors.py.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TranslationServiceError(Exception):
    """Base class: a stable machine-readable code, a message for people, details."""

    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __reduce__(self):
        return _rebuild, (type(self), self.message, self.details)

    @property
    def retry_after_s(self) -> float | None:
        """When a retry may succeed, for errors that know."""
        value = self.details.get("retry_after_s")
        return None if value is None else float(value)


def _rebuild(cls: type[TranslationServiceError], message: str, details: dict[str, Any]):
    return cls(message, **details)


class InvalidRequest(TranslationServiceError):
    """The request does not match the schema: wrong type, empty text, malformed JSON."""

    code = "invalid_request"


class MalformedJSON(InvalidRequest):
    code = "malformed_json"


class UnsupportedTarget(InvalidRequest):
    code = "unsupported_target"


class UnsupportedSource(InvalidRequest):
    """A source language no served model translates from."""

    code = "unsupported_source"


class UndetectableSource(InvalidRequest):
    """``source: "auto"`` and a text whose language could not be told."""

    code = "undetectable_source"


class NotFound(InvalidRequest):
    """What the request names does not exist here (a route, DeepL's glossary)."""

    code = "not_found"


class PayloadTooLarge(TranslationServiceError):
    """Over a configured limit; ``limit`` and ``actual`` say by how much."""

    code = "payload_too_large"


class ServiceNotReady(TranslationServiceError):
    code = "not_ready"


class TranslationFailed(TranslationServiceError):
    """The model raised on this item; its batch neighbours are unaffected."""

    code = "translation_failed"


class ModelUnavailable(TranslationServiceError):
    """The model this text is routed to failed to load; the next request for it tries again.
    Texts routed to other models are unaffected."""

    code = "model_unavailable"


class Unauthorized(TranslationServiceError):
    """API keys are configured and the request did not carry a valid one."""

    code = "unauthorized"


class Overloaded(TranslationServiceError):
    """More texts are in flight than the service admits; ``retry_after_s`` says when to retry."""

    code = "overloaded"


class DeadlineExceeded(TranslationServiceError):
    """The request's deadline passed before its translation was ready; the work was dropped."""

    code = "deadline_exceeded"


class TemporarilyUnavailable(TranslationServiceError):
    """A replica died under the request and the one retry failed too; safe to retry later."""

    code = "unavailable"
