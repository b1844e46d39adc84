"""Turn whatever a caller sent into a valid request, or the error that says what is wrong.

HTTP routes and the Python handle method both go through ``validate_request``, so a handle
caller gets exactly the checks an HTTP client gets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from deployments.core.errors import InvalidRequest, MalformedJSON, PayloadTooLarge
from deployments.core.settings import RequestLimits
from deployments.http.native import TranslateRequest


def describe_validation_errors(
    errors: Sequence[Mapping[str, Any]],
) -> tuple[str, list[dict[str, Any]]]:
    """A one-line message and a JSON-safe list from pydantic's (or FastAPI's) error dicts."""
    if any(error.get("type") == "json_invalid" for error in errors):
        raise MalformedJSON("the request body is not valid JSON")
    details = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part != "body"),
            "problem": error.get("msg", "").removeprefix("Value error, "),
        }
        for error in errors
    ]
    message = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details)
    return message, details


def validate_request(payload: Any, limits: RequestLimits) -> TranslateRequest:
    try:
        request = TranslateRequest.model_validate(payload)
    except ValidationError as error:
        message, details = describe_validation_errors(error.errors())
        raise InvalidRequest(message, errors=details) from None
    if request.format == "text":  # a document's limits count the text in it (documents.py)
        check_content(request, limits)
    return request


# NUL and the C0 controls that are not whitespace, DEL, and UTF-16 surrogates (a lone one
# cannot even be encoded as UTF-8): binary noise, not text to translate.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff]")


def check_content(request: TranslateRequest, limits: RequestLimits) -> None:
    """Rules the schema cannot state: no empty text or binary noise, and the configured limits."""
    texts = request.texts
    if not texts:
        raise InvalidRequest("text: the list is empty; send at least one text")
    if len(texts) > limits.max_texts_per_request:
        raise PayloadTooLarge(
            f"text: {len(texts)} texts in one request; the limit is {limits.max_texts_per_request}",
            limit=limits.max_texts_per_request,
            actual=len(texts),
            unit="texts",
        )
    for index, text in enumerate(texts):
        where = "text" if isinstance(request.text, str) else f"text[{index}]"
        if not text.strip():
            raise InvalidRequest(f"{where}: empty or whitespace only; nothing to translate")
        if len(text) > limits.max_chars_per_text:
            raise PayloadTooLarge(
                f"{where}: {len(text)} characters; the limit is {limits.max_chars_per_text}",
                limit=limits.max_chars_per_text,
                actual=len(text),
                unit="characters",
            )
        check_characters(where, text)
    total = sum(len(text) for text in texts)
    if total > limits.max_chars_per_request:
        raise PayloadTooLarge(
            f"text: {total} characters in one request; the limit is {limits.max_chars_per_request}",
            limit=limits.max_chars_per_request,
            actual=total,
            unit="characters",
        )


def check_characters(where: str, text: str) -> None:
    """InvalidRequest, saying where, for binary noise in ``text``."""
    if found := _NOT_TEXT.search(text):
        raise InvalidRequest(
            f"{where}: U+{ord(found.group()):04X} at position {found.start()} is a control "
            "character or a lone surrogate, not text; remove it",
            position=found.start(),
        )


def wants_memory(cache_control: str | None) -> bool:
    """False when ``Cache-Control`` says ``no-cache`` or ``no-store``: translate anew, without
    the translation memory (JSON requests may say ``"cache": false`` instead)."""
    directives = {part.strip().lower() for part in (cache_control or "").split(",")}
    return not directives & {"no-cache", "no-store"}


def request_timeout(header: str | None, default_s: float, maximum_s: float) -> float:
    """Seconds this request may take: ``X-Request-Timeout`` if sent (within the maximum)."""
    if header is None:
        return default_s
    try:
        seconds = float(header)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= maximum_s:  # also refuses nan and inf
        raise InvalidRequest(
            f"X-Request-Timeout: {header[:40]!r} is not a number of seconds in (0, {maximum_s:g}]",
            limit=maximum_s,
            unit="seconds",
        )
    return seconds
