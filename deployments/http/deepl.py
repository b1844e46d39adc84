"""DeepL's API v2 on top of ours: request fields, language codes, answers. Pure: no Ray.

DeepL's API (https://developers.deepl.com/docs/api-reference/translate) is what its official
SDKs, Mastodon, CAT tools and browser extensions speak: ``POST /v2/translate`` with ``text``
(one or many), ``target_lang`` and optional ``source_lang``, ``tag_handling`` and more, as JSON
or as a form; ``{"translations": [{"detected_source_language": "EN", "text": ...}]}`` back,
errors as ``{"message": "..."}`` (the statuses: deployments/http/errors.py). Its language codes
are upper case, with regional variants for some targets (``EN-GB``, ``PT-BR``); ours are the
ISO 639-1 codes the models declare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field

from deployments.core.errors import InvalidRequest, NotFound
from deployments.core.settings import RequestLimits
from deployments.engines.languages import language_name
from deployments.http.bodies import FORM_CONTENT_TYPE, form_pairs, is_form, is_json, parse_json
from deployments.http.documents import MarkupOptions
from deployments.http.native import TranslateRequest
from deployments.http.validation import check_content
from deployments.text.sources import AUTO

# DeepL Pro without a cost limit reports this; /v2/usage never says a quota is reached.
UNLIMITED_CHARACTERS = 1_000_000_000_000
# Targets DeepL names by region; every other language is its code in upper case.
TARGET_VARIANTS = {
    "en": {"EN-GB": "English (British)", "EN-US": "English (American)"},
    "pt": {"PT-BR": "Portuguese (Brazilian)", "PT-PT": "Portuguese (European)"},
}
SPLIT_SENTENCES = ("0", "1", "nonewlines")
FORMALITIES = ("default", "more", "less", "prefer_more", "prefer_less")
# Fields a form sends as one value each; ``text`` repeats, the tag lists are comma-separated.
_TAG_LISTS = ("ignore_tags", "splitting_tags", "non_splitting_tags")


# --- the wire types, for the OpenAPI document -------------------------------------------------


class DeepLTranslateRequest(BaseModel):
    """DeepL's ``POST /v2/translate`` body (JSON, or the same fields as a form)."""

    model_config = ConfigDict(
        title="DeepLTranslateRequest",
        json_schema_extra={"examples": [{"text": ["Hello world!"], "target_lang": "FR"}]},
    )

    text: list[str] | str = Field(description="Text(s) to translate; a form repeats the field.")
    target_lang: str = Field(description="DE, FR, EN-GB, EN-US, ...; GET /v2/languages lists.")
    source_lang: str | None = Field(None, description="Detected among the served when absent.")
    tag_handling: str | None = Field(None, description='"html" or "xml": markup in and out.')
    ignore_tags: list[str] | str | None = Field(None, description="Elements left untranslated.")
    splitting_tags: list[str] | str | None = None
    non_splitting_tags: list[str] | str | None = None
    split_sentences: str | None = Field(None, description='"0", "1" or "nonewlines"; accepted.')
    preserve_formatting: bool | str | None = Field(None, description="Accepted.")
    formality: str | None = Field(
        None, description='No served language has formality: "more"/"less" 400, "prefer_*" ok.'
    )
    glossary_id: str | None = Field(None, description="No glossaries here: 404.")
    context: str | None = Field(None, description="Accepted; not translated, not counted.")
    show_billed_characters: bool | None = None


class DeepLTranslation(BaseModel):
    detected_source_language: str
    text: str
    billed_characters: int | None = None


class DeepLTranslateResponse(BaseModel):
    model_config = ConfigDict(title="DeepLTranslateResponse")

    translations: list[DeepLTranslation]


class DeepLError(BaseModel):
    model_config = ConfigDict(title="DeepLError")

    message: str


class DeepLLanguage(BaseModel):
    language: str
    name: str
    supports_formality: bool | None = Field(None, description="Targets only; false here.")


class DeepLUsage(BaseModel):
    character_count: int = Field(description="Characters this ingress replica has translated.")
    character_limit: int


# --- reading the request ----------------------------------------------------------------------


def read_fields(body: bytes, content_type: str | None, query: str = "") -> dict[str, Any]:
    """The request's fields: a JSON object, or a form (``text`` may repeat), over the query
    string's (DeepL's older clients send parameters there)."""
    fields: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        _add_form_field(fields, name, value)
    if not body.strip():
        return fields
    if is_form(content_type):
        form: dict[str, Any] = {}
        for name, value in form_pairs(body):
            # A form's line breaks are CRLF (RFC 2046); the text's are LF.
            _add_form_field(form, name, value.replace("\r\n", "\n"))
        return {**fields, **form}
    if is_json(content_type):
        payload = parse_json(body)
        if not isinstance(payload, dict):
            raise InvalidRequest("the request body must be a JSON object")
        return {**fields, **payload}
    raise InvalidRequest(
        f"content-type {(content_type or '')[:60]!r} is not supported; send JSON "
        f"(application/json) or a form ({FORM_CONTENT_TYPE})"
    )


def _add_form_field(fields: dict[str, Any], name: str, value: str) -> None:
    if name == "text":
        fields.setdefault("text", []).append(value)
    elif name in _TAG_LISTS and name in fields:
        fields[name] = f"{fields[name]},{value}"
    else:
        fields.setdefault(name, value)


@dataclass(frozen=True)
class DeepLRequest:
    texts: list[str]
    source: str  # ours, or "auto" when source_lang is absent
    target: str  # ours
    markup: MarkupOptions | None
    show_billed_characters: bool


def to_request(fields: Mapping[str, Any], limits: RequestLimits) -> DeepLRequest:
    """DeepL's fields as our request, or the 400/404 DeepL would answer."""
    texts = fields.get("text")
    if texts is None or texts == []:
        raise InvalidRequest("Parameter 'text' not specified.")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise InvalidRequest("Parameter 'text' must be a string or a list of strings.")
    target_code = fields.get("target_lang")
    if not target_code:
        raise InvalidRequest("Parameter 'target_lang' not specified.")
    target = language_of(target_code, "target_lang")
    source_code = fields.get("source_lang")
    source = language_of(source_code, "source_lang") if source_code else AUTO
    _check_choice(fields, "split_sentences", SPLIT_SENTENCES)
    preserve = fields.get("preserve_formatting")
    if preserve not in (None, "") and str(preserve).lower() not in ("0", "1", "true", "false"):
        raise InvalidRequest("Value for 'preserve_formatting' not supported; send 0 or 1.")
    formality = _check_choice(fields, "formality", FORMALITIES)
    if formality in ("more", "less"):
        raise InvalidRequest(
            f"'formality' is not supported for given 'target_lang' ({target_code}): no served "
            "language has it; send prefer_more or prefer_less to ask where it is supported"
        )
    if fields.get("glossary_id"):
        if not source_code:
            raise InvalidRequest(
                "Use of a glossary requires the 'source_lang' parameter to be specified."
            )
        raise NotFound(
            f"Glossary not found: {str(fields['glossary_id'])[:60]!r}; this service "
            "has no glossaries"
        )
    markup = None
    tag_handling = fields.get("tag_handling")
    if tag_handling:
        if tag_handling not in ("html", "xml"):
            raise InvalidRequest("Value for 'tag_handling' not supported; send html or xml.")
        markup = MarkupOptions(
            tag_handling,
            ignore_tags=_tags(fields, "ignore_tags"),
            splitting_tags=_tags(fields, "splitting_tags"),
            non_splitting_tags=_tags(fields, "non_splitting_tags"),
        )
    request = TranslateRequest.model_construct(text=texts, source=source, target=target)
    if markup is None:
        check_content(request, limits)
    billed = str(fields.get("show_billed_characters", "")).lower() in ("1", "true")
    return DeepLRequest(texts, source, target, markup, billed)


def language_of(code: Any, field: str) -> str:
    """Ours for a DeepL code: ``EN-GB`` -> ``en``, ``DE`` -> ``de``, ``ZH-HANS`` -> ``zh``."""
    if not isinstance(code, str) or not code.strip():
        raise InvalidRequest(f"Value for '{field}' not supported.")
    return code.strip().partition("-")[0].lower()


def _check_choice(fields: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    value = str(value).lower()
    if value not in choices:
        raise InvalidRequest(f"Value for '{name}' not supported; send one of {', '.join(choices)}.")
    return value


def _tags(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = fields.get(name)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise InvalidRequest(f"Value for '{name}' not supported; send tag names.")
    return tuple(tag.strip().lower() for item in items for tag in item.split(",") if tag.strip())


# --- answers ----------------------------------------------------------------------------------


def answer(translations: list[str], sources: list[str], billed: list[int] | None) -> dict[str, Any]:
    """``{"translations": [...]}``, each with its source in DeepL's code."""
    entries: list[dict[str, Any]] = [
        {"detected_source_language": source.upper(), "text": text}
        for text, source in zip(translations, sources, strict=True)
    ]
    if billed is not None:
        for entry, count in zip(entries, billed, strict=True):
            entry["billed_characters"] = count
    return {"translations": entries}


def languages(pairs: Iterable[str], kind: str) -> list[dict[str, Any]]:
    """``GET /v2/languages?type=source|target`` from the served pairs ("en-fr")."""
    codes = sorted({pair.split("-", 1)[0 if kind == "source" else 1] for pair in pairs})
    if kind == "source":
        return [{"language": code.upper(), "name": language_name(code)} for code in codes]
    entries = []
    for code in codes:
        variants = TARGET_VARIANTS.get(code, {code.upper(): language_name(code)})
        entries += [
            {"language": variant, "name": name, "supports_formality": False}
            for variant, name in variants.items()
        ]
    return entries


def language_kind(value: Any) -> str:
    kind = value or "source"
    if kind not in ("source", "target"):
        raise InvalidRequest("Value for 'type' not supported; send source or target.")
    return kind


def usage(characters: int) -> dict[str, int]:
    return {"character_count": characters, "character_limit": UNLIMITED_CHARACTERS}
