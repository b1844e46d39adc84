"""Turn whatever a caller sent into a valid request, or the error that says what is wrong.

HTTP routes and the Python handle method both go through ``validate_request``, so a handle
caller gets exactly the checks an HTTP client gets.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from deployments.errors import InvalidRequest, MalformedJSON, PayloadTooLarge
from deployments.schemas import TranslateRequest
from deployments.settings import RequestLimits


def describe_validation_errors(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
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
    check_content(request, limits)
    return request


def check_content(request: TranslateRequest, limits: RequestLimits) -> None:
    """Rules the schema cannot state: no empty text, and the configured limits."""
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
