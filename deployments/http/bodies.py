"""Reading a request body the way every dialect does: JSON, or an urlencoded form.

The three dialects tell JSON from a form by the content type alone, as FastAPI does, and read
both the same way; what each then makes of the fields is its own (libretranslate.py, deepl.py).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from deployments.core.errors import InvalidRequest, MalformedJSON

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def is_form(content_type: str | None) -> bool:
    return _media_type(content_type) == FORM_CONTENT_TYPE


def is_json(content_type: str | None) -> bool:
    """As FastAPI decides: no content type, application/json or application/*+json."""
    media = _media_type(content_type)
    return not media or media == "application/json" or media.endswith("+json")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedJSON("the request body is not valid UTF-8 JSON") from None


def form_pairs(
    body: bytes, unreadable: str = "the form is not valid UTF-8"
) -> list[tuple[str, str]]:
    """A form's (name, value) pairs in order, or InvalidRequest(``unreadable``)."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest(unreadable) from None
