"""LibreTranslate's HTTP API on top of ours: request shape, answers, errors, languages.

LibreTranslate (https://libretranslate.com/docs) is what most open-source translation clients
speak: ``POST /translate`` with ``q`` (a string or a list), ``source``, ``target``, ``format``
and ``api_key``, as JSON or as a form; ``{"translatedText": ...}`` back, errors as
``{"error": "..."}``. ``POST /translate`` serves both shapes: a form, or a JSON object with
``q`` (or LibreTranslate's other fields and no ``text``), is LibreTranslate's. Pure: no Ray.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deployments.core.errors import (
    InvalidRequest,
    TranslationServiceError,
)
from deployments.core.settings import RequestLimits
from deployments.engines.languages import language_name
from deployments.http.bodies import form_pairs, is_form, is_json, parse_json
from deployments.http.native import TranslateRequest
from deployments.http.validation import check_content
from deployments.text.detection import Detection

AUTO = "auto"
FORMATS = ("text", "html")
# Fields only LibreTranslate's shape has; ours has "text" instead of "q".
_LIBRETRANSLATE_ONLY = frozenset({"q", "source", "format", "api_key", "alternatives", "secret"})


# --- the wire types, for the OpenAPI document -------------------------------------------------


class LibreTranslateRequest(BaseModel):
    """LibreTranslate's ``POST /translate`` body (JSON, or the same fields as a form)."""

    model_config = ConfigDict(
        title="LibreTranslateRequest",
        json_schema_extra={
            "examples": [
                {"q": "Hello world!", "source": "en", "target": "fr"},
                {"q": ["Hi.", "Bye."], "source": "auto", "target": "fr", "format": "text"},
            ]
        },
    )

    q: str | list[str] = Field(description="Text(s) to translate.")
    source: str = Field(description='Source language code, or "auto" to detect it.')
    target: str = Field(description="Target language code; GET /languages lists them.")
    format: str = Field("text", description='"text", or "html": markup kept, its text translated.')
    api_key: str | None = Field(
        None, description="An API key, when the service has keys (or the bearer header)."
    )
    alternatives: int = Field(0, description="Accepted; the answer's alternatives are empty.")


class LibreTranslateResponse(BaseModel):
    model_config = ConfigDict(title="LibreTranslateResponse")

    translatedText: str | list[str]
    detectedLanguage: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description='With source "auto": {"confidence": 97.0, "language": "fr"} per text.'
    )
    alternatives: list[Any] | None = None
    truncated: bool | list[bool] | None = Field(
        None,
        description="Only when a translation reached the model's decoding limit even in pieces "
        "and may be cut: true (one text) or a flag per text. Header X-Truncated-Texts too.",
    )


class LibreTranslateError(BaseModel):
    model_config = ConfigDict(title="LibreTranslateError")

    error: str


class DetectedLanguage(BaseModel):
    confidence: float = Field(description="In percent, among the served sources.")
    language: str


class Language(BaseModel):
    code: str
    name: str
    targets: list[str]


# --- recognising and reading the request ------------------------------------------------------


def is_libretranslate(payload: Any) -> bool:
    """A JSON body in LibreTranslate's shape: has ``q``, or LibreTranslate's fields and no
    ``text`` (ours). Anything else is ours, and gets our errors."""
    if not isinstance(payload, dict):
        return False
    return "q" in payload or (
        "text" not in payload and not _LIBRETRANSLATE_ONLY.isdisjoint(payload)
    )


def parse_form(body: bytes) -> dict[str, str]:
    """A form's fields, the first value of each (as LibreTranslate reads them)."""
    fields: dict[str, str] = {}
    for name, value in form_pairs(body, "Invalid request: the form is not valid UTF-8"):
        fields.setdefault(name, value)
    if "q" in fields:  # a form's line breaks are CRLF (RFC 2046); the text's are LF
        fields["q"] = fields["q"].replace("\r\n", "\n")
    return fields


def api_key_in(body: bytes, content_type: str | None) -> tuple[bool, str | None]:
    """(whether the body is LibreTranslate's shape, its api_key); never raises."""
    try:
        if is_form(content_type):
            return True, parse_form(body).get("api_key")
        if is_json(content_type):
            payload = parse_json(body)
            if is_libretranslate(payload):
                key = payload.get("api_key")
                return True, key if isinstance(key, str) else None
    except TranslationServiceError:
        pass
    return False, None


@dataclass(frozen=True)
class LibreRequest:
    request: TranslateRequest
    auto: bool  # source was "auto": the answer says which language it took the text for
    alternatives: int


def to_request(fields: Mapping[str, Any], limits: RequestLimits) -> LibreRequest:
    """LibreTranslate's fields as our request, or the error LibreTranslate would give."""
    q = fields.get("q")
    for name in ("q", "source", "target"):
        if not fields.get(name):
            raise InvalidRequest(f"Invalid request: missing {name} parameter")
    source, target = fields["source"], fields["target"]
    if not isinstance(q, str) and not (isinstance(q, list) and all(isinstance(t, str) for t in q)):
        raise InvalidRequest("Invalid request: q must be a string or a list of strings")
    if not isinstance(source, str):
        raise InvalidRequest("Invalid request: source must be a string")
    if not isinstance(target, str):
        raise InvalidRequest("Invalid request: target must be a string")
    text_format = fields.get("format") or "text"
    if text_format not in FORMATS:
        raise InvalidRequest(f"{_quoted(text_format)} format is not supported")
    alternatives = fields.get("alternatives") or 0
    try:
        alternatives = int(alternatives)
    except (TypeError, ValueError):
        raise InvalidRequest("Invalid request: alternatives parameter is not a number") from None
    html = text_format == "html"
    request = TranslateRequest.model_construct(
        text=q, target=target, source=source, format="html" if html else "text"
    )
    if not html:  # a document's limits count the text in it (http/documents.py)
        _check_q(request, limits)
    return LibreRequest(request, auto=source == AUTO, alternatives=alternatives)


def detect_request(fields: Any, limits: RequestLimits) -> str:
    """``POST /detect``'s ``q``, or the error LibreTranslate would give."""
    q = fields.get("q") if isinstance(fields, Mapping) else None
    if not q:
        raise InvalidRequest("Invalid request: missing q parameter")
    if not isinstance(q, str):
        raise InvalidRequest("Invalid request: q must be a string")
    _check_q(TranslateRequest.model_construct(text=q), limits)
    return q


def _check_q(request: TranslateRequest, limits: RequestLimits) -> None:
    try:
        check_content(request, limits)
    except TranslationServiceError as error:
        # Our messages name the field "text"; LibreTranslate's caller sent "q".
        if error.message.startswith("text"):
            error.message = "q" + error.message.removeprefix("text")
        raise


def _quoted(value: Any) -> str:
    return str(value)[:40]


# --- answers ----------------------------------------------------------------------------------


def answer(
    translation: str | list[str], libre: LibreRequest, detected: list[Detection] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"translatedText": translation}
    many = isinstance(translation, list)
    if libre.auto and detected is not None:
        found = [detected_language(d) for d in detected]
        body["detectedLanguage"] = found if many else found[0]
    if libre.alternatives > 0:
        body["alternatives"] = [[] for _ in translation] if many else []
    return body


def detected_language(detection: Detection) -> dict[str, Any]:
    """LibreTranslate's form of a detection: the confidence in percent."""
    return {"confidence": round(detection.confidence * 100, 1), "language": detection.language}


def languages(pairs: Iterable[str]) -> list[dict[str, Any]]:
    """GET /languages from the served pairs ("en-fr"): every language with the targets it
    translates into, sources first, then the languages that are only targets (with none), so
    a client that checks its target against this list finds it."""
    targets: dict[str, list[str]] = {}
    for pair in pairs:
        source, target = pair.split("-", 1)
        targets.setdefault(source, []).append(target)
    only_targets = {t for to in targets.values() for t in to} - set(targets)
    entries = [(code, sorted(to)) for code, to in sorted(targets.items())]
    entries += [(code, []) for code in sorted(only_targets)]
    return [{"code": code, "name": language_name(code), "targets": to} for code, to in entries]
