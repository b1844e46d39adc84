"""Property-based fuzzing of every door of the HTTP API: over 3,000 generated requests.

The doors: ours (``POST /translate`` JSON ``{"text", "target", "source", "format"}``),
LibreTranslate's (``q``, ``source``, ``target``, ``format``, ``api_key``, ``alternatives``, as
JSON and as a form), DeepL's (``POST /v2/translate``, JSON or a form whose ``text`` repeats, and
its lists ``/v2/languages`` and ``/v2/usage``), markup documents in all three (``format`` html
or xml, ``tag_handling``), the tutorial's ``POST /?text=…&target=…``, and the GET routes (plus
every other method and made-up paths, under /v2/ too). Generated: request-shaped and arbitrary
bodies (any unicode, lone surrogates, control characters, arbitrary JSON and bytes), bodies at,
one below and one above each of the instance's limits (read from ``GET /info``), and odd headers
(``X-Request-Timeout``, ``X-Request-ID``, content types, ``Authorization``, chunked bodies).

The rules, for every answer: no 5xx but 503 and 504; a 503 (or LibreTranslate's 429) carries
``Retry-After``; a 503 or 504 (load, or a fuzzed deadline) is counted apart, not failed; every
error is JSON, in our shape ``{"error": {"code", "message"}}`` with the status docs/api.md gives
its code, for a LibreTranslate request ``{"error": "<message>"}``, for DeepL's (and anything
under /v2/) ``{"message": "<message>"}``; every 200 has its dialect's shape, and where the
request is known to be valid (phrasebook sentences, a good target, a good deadline) it is the
exact translation (for a well-formed document of phrasebook sentences, one a block, the document
with each sentence translated and escaped); ``X-Request-ID`` is echoed as documented. Each test
counts its own answers and prints one line (2xx/4xx/503/504), and the module prints them all at
the end (``pytest -s``; without it, the lines are in a JUnit report's system-out). Derandomized,
with no example database: the requests follow from the code, not from a random seed or an
earlier run's failures.

What the graph cannot answer because Serve or HAProxy answers first is in
``test_answered_before_the_graph_sees_the_request`` (strict xfails), and kept out of the rest.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.client import PHRASES, served

pytestmark = [pytest.mark.integration, pytest.mark.slow]

logger = logging.getLogger(__name__)

OURS, LIBRE, DEEPL, QUERY, ROUTES = "ours", "libretranslate", "deepl", "query", "routes"
TARGETS = ("fr", "de")
# configs/local.yaml's pairs, each source's targets (fr -> de through English), as /languages
# lists them.
SERVED = {"de": ("en", "fr"), "en": ("de", "fr"), "fr": ("de", "en")}
LANGUAGES = [
    {"code": "de", "name": "German", "targets": ["en", "fr"]},
    {"code": "en", "name": "English", "targets": ["de", "fr"]},
    {"code": "fr", "name": "French", "targets": ["de", "en"]},
]
BY_TARGET = {t: [p for p in PHRASES if p.target == t] for t in TARGETS}
# Each error code's status in our shape, as docs/api.md's table gives it (5xx but 503 and 504
# fail before this is looked at). LibreTranslate's shape has no code: its statuses are below.
OUR_STATUS = {
    "malformed_json": 400,
    "invalid_request": 422,
    "unsupported_target": 422,
    "unsupported_source": 422,
    "undetectable_source": 422,
    "payload_too_large": 413,
    "unauthorized": 401,
    "not_found": 404,
    "method_not_allowed": 405,
    "overloaded": 503,
    "not_ready": 503,
    "unavailable": 503,
    "deadline_exceeded": 504,
}
LIBRE_STATUSES = {400, 403, 429, 503, 504}
# DeepL's shape, {"message": ...} (deployments/http/errors.py's DeepL column): 413 for size, 404
# for what does not exist (a glossary, a route under /v2/), 405 for a method /v2/ lacks.
DEEPL_STATUSES = {400, 403, 404, 413, 429, 503, 504}
DEEPL_ROUTE_STATUSES = DEEPL_STATUSES | {405}
# GET /v2/languages (type=source, the default): the served sources in DeepL's codes.
DEEPL_SOURCES = [
    {"language": "DE", "name": "German"},
    {"language": "EN", "name": "English"},
    {"language": "FR", "name": "French"},
]
UNLIMITED_CHARACTERS = 1_000_000_000_000  # /v2/usage's character_limit: no quota
# DeepL's codes for the phrasebook's targets, as clients write them (deepl.py: upper case, a
# region after "-" for some targets; read case-insensitively, stripped).
DEEPL_TARGETS = {"fr": ("FR", "fr", " FR"), "de": ("DE", "de", "DE-DE")}
# What makes a JSON body LibreTranslate's (docs/api.md): q, or one of these and no "text".
LIBRE_FIELDS = {"q", "source", "format", "api_key", "alternatives", "secret"}
FORM = "application/x-www-form-urlencoded"
JSON_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/vnd.api+json",
    "application/problem+json; charset=UTF-8",
    "",
]
FORM_TYPES = [FORM, f"{FORM}; charset=utf-8", FORM.upper()]
OTHER_TYPES = [
    "text/plain",
    "text/json",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/jsonx",
    "application/octet-stream",
    "*/*",
    "json",
]
TINY_TIMEOUT = "0.001"  # a valid deadline no translation meets: the answer is a 504
ODD_TIMEOUTS = [
    "30", "300", "300.0", "300.0001", "301", "0", "-0", "-1", "1e-9", TINY_TIMEOUT,
    "nan", "inf", "-inf", "1e400", "1_0", "+5", "0x10", "5s", "soon", "é", "", "5 ",
    "1,5", "1 000",
]  # fmt: skip


# --- what was sent, what must come back -------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What a request whose outcome is known must get (a 503 or 504 is counted apart only
    where ``status`` is 200: every refusal is decided before admission and deadlines)."""

    status: int
    answer: Any = None  # the exact JSON of a 200
    code: str | None = None  # our error code
    details: dict[str, Any] = field(default_factory=dict)  # our error details, a subset
    says: tuple[str, ...] = ()  # what the error message must contain, in either shape
    # Decided after admission (the Translator refuses the target): a 503 or 504 may come first.


@dataclass
class Case:
    method: str
    path: str
    # Whose shape the answer has: OURS, LIBRE, DEEPL, QUERY (a JSON string) or ROUTES.
    dialect: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    params: list[tuple[str, bytes]] | None = None
    payload: Any = None  # what the body means: the JSON value, or a form's fields
    expect: Expect | None = None
    chunked: bool = False

    def __str__(self) -> str:
        body = None if self.body is None else self.body[:300]
        return (
            f"{self.method} {self.path} params={self.params!r:.300} headers={self.headers!r:.300}"
            f" body={body!r} ({self.dialect}; expected {self.expect})"
        )


class Tally:
    """One test's answers by class; the test prints its line and checks its own count."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()

    @property
    def sent(self) -> int:
        return sum(v for k, v in self.counts.items() if k not in ("exact", "expected"))

    def line(self) -> str:
        c = self.counts
        return (
            f"{self.name}: {self.sent} requests, {c['expected']} answered as predicted "
            f"({c['exact']} exact translations); 2xx {c['2xx']}, 3xx {c['3xx']}, "
            f"4xx {c['4xx']}; apart: 429 {c['429']}, 503 {c['503']}, 504 {c['504']}"
        )


def send(http: requests.Session, base_url: str, case: Case) -> requests.Response:
    data: Any = case.body
    if case.chunked and data is not None:
        data = iter([data[: len(data) // 2], data[len(data) // 2 :]])
    return http.request(
        case.method,
        base_url + case.path,
        params=case.params,
        data=data,
        headers=case.headers,
        timeout=120,
        allow_redirects=False,
    )


# --- the rules --------------------------------------------------------------------------------


def check(case: Case, response: requests.Response, tally: Tally) -> None:
    status = response.status_code
    where = f"{case}\n-> {status} {response.headers} {response.text[:500]!r}"
    assert status < 500 or status in (503, 504), where
    check_request_id(case, response, where)
    if 300 <= status < 400:  # Starlette's redirect of a known route's path with a trailing "/"
        assert case.expect is not None and case.expect.status == status, where
        assert response.headers.get("location"), where
        tally.counts["3xx"] += 1
        tally.counts["expected"] += 1
        return
    if case.method == "HEAD":  # no body to read
        assert case.expect is not None and case.expect.status == status, where
        tally.counts[f"{status // 100}xx"] += 1
        tally.counts["expected"] += 1
        return
    if (
        status == 200
        and case.dialect == ROUTES
        and response.headers["content-type"].startswith("text/html")
    ):
        assert case.expect is not None and case.expect.answer == "html", where
        tally.counts["2xx"] += 1
        tally.counts["expected"] += 1
        return
    assert response.headers.get("content-type", "").startswith("application/json"), where
    body = response.json()
    apart = status in (503, 504) or (status == 429 and case.dialect in (LIBRE, DEEPL))
    if status >= 400:
        check_error_shape(case, status, body, where)
    if apart:
        # Load or a fuzzed deadline: counted, not failed, where the request could succeed.
        assert case.expect is None or case.expect.status == 200, where
        if status != 504 and case.path in ("/translate", "/", "/v2/translate"):
            assert int(response.headers["retry-after"]) >= 1, where
        tally.counts[str(status)] += 1
        return
    tally.counts[f"{status // 100}xx"] += 1
    if status == 200:
        check_answer_shape(case, body, where)
    expect = case.expect
    if expect is None:
        return
    assert status == expect.status, where
    tally.counts["expected"] += 1
    if status == 200:
        if expect.answer is not None:  # else its shape, checked above, is all that is known
            # A detection's confidence is the detector's; its language is the oracle's.
            assert without_confidence(body) == without_confidence(expect.answer), where
            tally.counts["exact"] += 1
        return
    if deepl_shaped(case):
        message = body["message"]
    elif case.dialect == LIBRE or isinstance(body.get("error"), str):
        message = body["error"]
    else:
        error = body["error"]
        message = error["message"]
        if expect.code is not None:
            assert error["code"] == expect.code, where
        assert {k: error.get(k) for k in expect.details} == expect.details, where
    for part in expect.says:
        assert part in message, where


def deepl_shaped(case: Case) -> bool:
    """DeepL's requests, and anything under /v2/ (app.py's ``_http_error``), answer its shape."""
    return case.dialect == DEEPL or (
        case.dialect == ROUTES and unquote(case.path, errors="replace").startswith("/v2/")
    )


def check_error_shape(case: Case, status: int, body: Any, where: str) -> None:
    if deepl_shaped(case):
        assert status in (DEEPL_STATUSES if case.dialect == DEEPL else DEEPL_ROUTE_STATUSES), where
        assert isinstance(body, dict) and set(body) == {"message"}, where
        assert isinstance(body["message"], str) and body["message"], where
        return
    if case.dialect == LIBRE:
        assert status in LIBRE_STATUSES, where
        assert isinstance(body, dict) and set(body) == {"error"}, where
        assert isinstance(body["error"], str) and body["error"], where
        return
    if case.dialect == ROUTES and status == 503:
        if case.path == "/health":  # HealthResponse, as for a 200
            assert body["status"] == "unavailable" and body["detail"], where
            return
        if case.path == "/languages":  # LibreTranslate's list route, LibreTranslate's error
            assert set(body) == {"error"} and body["error"], where
            return
    detect = case.dialect == ROUTES and unquote(case.path) == "/detect" and case.method == "POST"
    if detect and status in LIBRE_STATUSES:  # LibreTranslate's route, LibreTranslate's errors
        assert set(body) == {"error"} and body["error"], where
        return
    error = body["error"]
    assert isinstance(error, dict), where
    assert isinstance(error["code"], str) and error["code"], where
    assert isinstance(error["message"], str) and error["message"], where
    if error["code"] == "http_error":  # Starlette's own error, with its own status
        assert 400 <= status < 500, where
    else:
        assert OUR_STATUS.get(error["code"]) == status, where


def without_confidence(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    found = {}
    for key in ("detected_language", "detectedLanguage"):
        if key in body:
            one = body[key]
            found[key] = [d["language"] for d in one] if isinstance(one, list) else one["language"]
    return {**body, **found}


def check_detections(detected: Any, count: int | None, top: float, where: str) -> None:
    """One detection per text (or one for a single text): a source served, a confidence in
    (0, top]."""
    many = detected if count is not None else [detected]
    assert count is None or (isinstance(detected, list) and len(detected) == count), where
    for one in many:
        assert set(one) == {"language", "confidence"} and one["language"] in SERVED, where
        assert 0 < one["confidence"] <= top, where


def check_answer_shape(case: Case, body: Any, where: str) -> None:
    if case.dialect == OURS:
        text = case.payload["text"]
        markup = case.payload.get("format", "text") != "text"
        # Documents with no text to translate come back as sent, and with "auto" there was
        # nothing to detect from: no detected_language then (docs/api.md, Markup).
        if case.payload.get("source") == "auto" and not (
            markup and set(body) == {"translation"} and body["translation"] == text
        ):
            assert set(body) == {"translation", "detected_language"}, where
            many = isinstance(text, list)
            check_detections(body["detected_language"], len(text) if many else None, 1.0, where)
        else:
            assert set(body) == {"translation"}, where
        translation = body["translation"]
        if isinstance(text, str):
            assert isinstance(translation, str), where
        else:
            assert isinstance(translation, list) and len(translation) == len(text), where
            assert all(isinstance(t, str) for t in translation), where
    elif case.dialect == LIBRE:
        q = case.payload["q"]
        many = isinstance(q, list)
        translated = body["translatedText"]
        assert isinstance(translated, list if many else str), where
        if many:
            assert len(translated) == len(q) and all(isinstance(t, str) for t in translated)
        keys = {"translatedText"}
        markup = case.payload.get("format") == "html"  # no text, nothing detected (as ours)
        if case.payload.get("source") == "auto" and not (
            markup and "detectedLanguage" not in body and translated == q
        ):
            keys.add("detectedLanguage")
            check_detections(body["detectedLanguage"], len(q) if many else None, 100.0, where)
        if int(case.payload.get("alternatives") or 0) > 0:
            keys.add("alternatives")
            assert body["alternatives"] == ([[] for _ in q] if many else []), where
        assert set(body) == keys, where
    elif case.dialect == DEEPL:
        check_deepl_answer(case.payload, body, where)
    elif case.dialect == QUERY:
        assert isinstance(body, str), where
    else:
        check_route_answer(case.path, body, where)


def check_deepl_answer(fields: dict[str, Any], body: Any, where: str) -> None:
    """One translation per text, in order, each with its source in DeepL's code (one served:
    the one sent, or the one detected) and, when asked, the characters billed (the text's)."""
    texts = fields["text"]
    texts = [texts] if isinstance(texts, str) else texts
    billed = str(fields.get("show_billed_characters", "")).lower() in ("1", "true")
    keys = {"detected_source_language", "text"} | ({"billed_characters"} if billed else set())
    assert isinstance(body, dict) and set(body) == {"translations"}, where
    translations = body["translations"]
    assert isinstance(translations, list) and len(translations) == len(texts), where
    for entry, text in zip(translations, texts, strict=True):
        assert isinstance(entry, dict) and set(entry) == keys, where
        assert isinstance(entry["text"], str), where
        detected = entry["detected_source_language"]
        # Documents without any text, their language to detect: nothing to detect from, so ""
        # (docs/api.md, Markup); the document comes back as sent.
        echoed = (
            fields.get("tag_handling") and not fields.get("source_lang") and entry["text"] == text
        )
        assert detected in {s.upper() for s in SERVED} or (echoed and detected == ""), where
        if billed:
            assert entry["billed_characters"] == len(text), where


def check_route_answer(path: str, body: Any, where: str) -> None:
    route = unquote(path)
    if route == "/health":
        assert body["status"] == "ok" and sorted(body["targets"]) == sorted(TARGETS), where
    elif route == "/languages":
        assert body == LANGUAGES, where
    elif route == "/info":
        assert {"limits", "deadlines", "admission", "served", "targets"} <= set(body), where
    elif route == "/openapi.json":
        assert body["openapi"] and "/translate" in body["paths"], where
        assert "/v2/translate" in body["paths"], where
    elif route == "/v2/languages":
        assert body == DEEPL_SOURCES, where
    elif route == "/v2/usage":
        assert set(body) == {"character_count", "character_limit"}, where
        assert isinstance(body["character_count"], int) and body["character_count"] >= 0, where
        assert body["character_limit"] == UNLIMITED_CHARACTERS, where
    else:
        raise AssertionError(f"a 200 JSON answer from {route}: {where}")


def usable_id(value: str) -> bool:
    """docs/api.md: an id is replaced when over 128 characters or not all visible ASCII."""
    return 1 <= len(value) <= 128 and all(0x21 <= ord(c) <= 0x7E for c in value)


def check_request_id(case: Case, response: requests.Response, where: str) -> None:
    sent = case.headers.get("X-Request-ID")
    echoed = response.headers.get("x-request-id")
    replaced = response.headers.get("x-request-id-replaced-by")
    assert echoed is not None, where  # on every answer, errors and 404s included
    if sent is None:
        assert replaced is None, where
        return
    assert echoed == sent, where
    if usable_id(sent):
        assert replaced is None, where
    else:
        assert replaced and usable_id(replaced) and replaced != sent, where


# --- oracles: what the docs say a request is ----------------------------------------------------


UNREADABLE = object()  # a body that is not UTF-8 JSON (or a form that is not UTF-8)


def media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def is_json_type(content_type: str | None) -> bool:
    media = media_type(content_type)
    return media in ("", "application/json") or media.endswith("+json")


def dialect_of(content_type: str | None, body: bytes) -> tuple[str, Any]:
    """Whose shape ``POST /translate`` answers in, and what the body means (docs/api.md: a
    form, or a JSON object with q or LibreTranslate's fields and no text, is LibreTranslate's;
    a body that cannot be read is answered in ours)."""
    if media_type(content_type) == FORM:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return OURS, UNREADABLE
        fields: dict[str, str] = {}
        for name, value in pairs:
            fields.setdefault(name, value)
        if "q" in fields:
            fields["q"] = fields["q"].replace("\r\n", "\n")
        return LIBRE, fields
    if not is_json_type(content_type):
        return OURS, UNREADABLE
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return OURS, UNREADABLE
    if isinstance(payload, dict) and (
        "q" in payload or ("text" not in payload and LIBRE_FIELDS & set(payload))
    ):
        return LIBRE, payload
    return OURS, payload


def timeout_ok(value: str | None, maximum_s: float) -> bool:
    """docs/api.md: X-Request-Timeout is a number of seconds in (0, max_request_timeout_s]."""
    if value is None:
        return True
    try:
        seconds = float(value.strip(" \t"))
    except ValueError:
        return False
    return 0 < seconds <= maximum_s


# The characters docs/api.md refuses in a text: C0 controls but tab, LF, VT, FF and CR; DEL;
# lone surrogates.
NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff]")


def texts_refused(texts: list[str]) -> bool:
    """docs/api.md, Limits: an empty list, an empty or whitespace-only text, or one with a
    refused character (the fuzzed texts are far below the size limits)."""
    return not texts or any(not t.strip() or NOT_TEXT.search(t) for t in texts)


def verdict(
    texts: list[str],
    target: str,
    timeout: str | None,
    maximum_s: float,
    dialect: str,
    source: str = "en",
) -> Expect | None:
    """For a request whose fields have the right types: a refusal of its texts, then of its
    deadline, then of its source, then of its pair, else a translation (its shape checked).
    With "auto" the pair depends on what the detector makes of fuzzed text: only a text with
    no letter at all is known to be refused."""
    libre = dialect in (LIBRE, DEEPL)  # no error codes: every refusal of these is a 400
    # A pair no model serves is refused by the ingress's routes, before admission.
    invalid, unsupported = (
        (Expect(400), Expect(400))
        if libre
        else (Expect(422, code="invalid_request"), Expect(422, code="unsupported_target"))
    )
    if texts_refused(texts):
        return invalid
    if not timeout_ok(timeout, maximum_s):
        return Expect(invalid.status, code=invalid.code, says=("X-Request-Timeout",))
    if source != "auto" and source not in SERVED:
        return Expect(invalid.status, code=None if libre else "unsupported_source")
    if source == "auto":
        if not all(any(c.isalpha() for c in t) for t in texts):
            return Expect(invalid.status, code=None if libre else "undetectable_source")
        return None
    if target not in SERVED[source]:
        return unsupported
    return Expect(200)


def our_verdict(payload: Any, headers: dict[str, str], maximum_s: float) -> Expect | None:
    """docs/api.md, our shape: text a string or a list of strings, target and source strings,
    format one of "text", "html", "xml"; cache a boolean; no other field."""
    invalid = Expect(422, code="invalid_request")
    fields = {"text", "target", "source", "format", "cache"}
    if not isinstance(payload, dict) or "text" not in payload or set(payload) - fields:
        return invalid
    if not isinstance(payload.get("cache", True), bool):
        return invalid
    text, target = payload["text"], payload.get("target", "fr")
    source = payload.get("source", "en")
    if not isinstance(source, str):
        return invalid
    if isinstance(text, str):
        text = [text]
    if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
        return invalid
    if not isinstance(target, str):
        return invalid
    text_format = payload.get("format", "text")
    if not isinstance(text_format, str) or text_format not in ("text", "html", "xml"):
        return invalid
    timeout = headers.get("X-Request-Timeout")
    if text_format != "text":
        return markup_verdict(text, timeout, maximum_s, OURS)
    return verdict(text, target, timeout, maximum_s, OURS, source)


def markup_verdict(
    documents: list[str], timeout: str | None, maximum_s: float, dialect: str
) -> Expect | None:
    """What is known of documents before they are parsed (deployments/http/documents.py): an
    empty list or binary noise is refused, whether the deadline is read first or last; a
    bad deadline is refused before parsing. The rest depends on the markup (malformed is a
    refusal, a document without text comes back as it was): not predicted."""
    invalid = Expect(422, code="invalid_request") if dialect == OURS else Expect(400)
    if not documents or any(NOT_TEXT.search(d) for d in documents):
        return invalid
    if any(not d.strip() for d in documents):  # nothing to parse: refused or echoed
        return None
    if not timeout_ok(timeout, maximum_s):
        return Expect(invalid.status, code=invalid.code, says=("X-Request-Timeout",))
    return None


def libre_verdict(fields: Any, headers: dict[str, str], maximum_s: float) -> Expect | None:
    """docs/api.md, LibreTranslate's API: q, source and target needed; q a string or a list of
    strings; source a string (served: en, or auto); format text or html (each q a document);
    alternatives a number."""
    for name in ("q", "source", "target"):
        if not fields.get(name):  # the first one missing is named
            return Expect(400, says=(f"missing {name} parameter",))
    q, source, target = fields["q"], fields["source"], fields["target"]
    texts = [q] if isinstance(q, str) else q
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return Expect(400)
    if not isinstance(source, str) or not isinstance(target, str):
        return Expect(400)
    text_format = fields.get("format") or "text"
    if text_format not in ("text", "html"):
        return Expect(400, says=("format is not supported",))
    try:
        int(fields.get("alternatives") or 0)
    except (TypeError, ValueError):
        return Expect(400, says=("alternatives",))
    timeout = headers.get("X-Request-Timeout")
    if text_format == "html":
        return markup_verdict(texts, timeout, maximum_s, LIBRE)
    return verdict(texts, target, timeout, maximum_s, LIBRE, source)


def deepl_fields(content_type: str | None, body: bytes) -> tuple[Any, Expect | None]:
    """What ``POST /v2/translate`` reads from its body (deepl.py's ``read_fields``): the fields
    (a form's ``text`` repeats, its tag lists join with commas) or the 400 for a body it cannot
    read. An empty body is no fields."""
    if not body.strip():
        return {}, None
    if media_type(content_type) == FORM:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return None, Expect(400, says=("UTF-8",))
        fields: dict[str, Any] = {}
        for name, raw in pairs:
            value = raw.replace("\r\n", "\n")
            if name == "text":
                fields.setdefault("text", []).append(value)
            elif name in DEEPL_TAG_LISTS and name in fields:
                fields[name] = f"{fields[name]},{value}"
            else:
                fields.setdefault(name, value)
        return fields, None
    if not is_json_type(content_type):
        return None, Expect(400, says=("content-type",))
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, Expect(400, says=("JSON",))
    if not isinstance(payload, dict):
        return None, Expect(400, says=("JSON object",))
    return payload, None


DEEPL_TAG_LISTS = ("ignore_tags", "splitting_tags", "non_splitting_tags")


def deepl_choice(fields: dict[str, Any], name: str) -> str | None:
    """A choice field as deepl.py reads it: absent or "" is none, else its text in lower case
    (a JSON number or boolean as Python writes it)."""
    value = fields.get(name)
    return None if value is None or value == "" else str(value).lower()


def deepl_language(code: Any) -> str | None:
    """Ours for a DeepL code (``EN-GB`` -> ``en``), None for one that is not a code."""
    if not isinstance(code, str) or not code.strip():
        return None
    return code.strip().partition("-")[0].lower()


def deepl_verdict(
    fields: dict[str, Any], headers: dict[str, str], maximum_s: float
) -> Expect | None:
    """DeepL's documented refusals, in deepl.py's order: text (a string or a list of
    strings), target_lang, source_lang, the choices (split_sentences, preserve_formatting,
    formality: more and less refused, no language here has it), glossary_id (400 without
    source_lang, 404 with it: no glossaries), tag_handling and its tag lists; then the texts
    (for plain text), the deadline, the source and the pair. Every refusal but the glossary's
    and a size's is a 400."""
    texts = fields.get("text")
    if texts is None or texts == []:
        return Expect(400, says=("'text' not specified",))
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return Expect(400, says=("'text'",))
    target_code = fields.get("target_lang")
    if not target_code:
        return Expect(400, says=("'target_lang' not specified",))
    target = deepl_language(target_code)
    if target is None:
        return Expect(400, says=("target_lang",))
    source_code = fields.get("source_lang")
    source = "auto"
    if source_code:
        source = deepl_language(source_code) or ""
        if not source:
            return Expect(400, says=("source_lang",))
    if deepl_choice(fields, "split_sentences") not in (None, "0", "1", "nonewlines"):
        return Expect(400, says=("split_sentences",))
    preserve = fields.get("preserve_formatting")
    if preserve not in (None, "") and str(preserve).lower() not in ("0", "1", "true", "false"):
        return Expect(400, says=("preserve_formatting",))
    formality = deepl_choice(fields, "formality")
    if formality not in (None, "default", "more", "less", "prefer_more", "prefer_less"):
        return Expect(400, says=("formality",))
    if formality in ("more", "less"):
        return Expect(400, says=("'formality' is not supported",))
    if fields.get("glossary_id"):
        if not source_code:
            return Expect(400, says=("source_lang",))
        return Expect(404, says=("Glossary not found",))
    tag_handling = fields.get("tag_handling")
    timeout = headers.get("X-Request-Timeout")
    if tag_handling:
        if tag_handling not in ("html", "xml"):
            return Expect(400, says=("tag_handling",))
        for name in DEEPL_TAG_LISTS:
            value = fields.get(name)
            items = value if isinstance(value, list) else [value]
            if value is not None and not all(isinstance(item, str) for item in items):
                return Expect(400, says=(name,))
        return markup_verdict(texts, timeout, maximum_s, DEEPL)
    return verdict(texts, target, timeout, maximum_s, DEEPL, source)


def translation_case(
    dialect: str,
    texts: list[str],
    expected: list[str] | None,
    *,
    as_list: bool,
    target: str | None,
    headers: dict[str, str],
    maximum_s: float,
    libre_extra: dict[str, Any] | None = None,
    form: bool = False,
) -> Case:
    """A request whose body is valid, its exact answer (when ``expected`` is known) or, with
    a bad X-Request-Timeout, the error that names it."""
    text: str | list[str] = texts if as_list else texts[0]
    answer: Any = expected if as_list or expected is None else expected[0]
    timeout = headers.get("X-Request-Timeout")
    good_deadline = timeout_ok(timeout, maximum_s)
    if dialect == QUERY:
        assert isinstance(text, str)
        params = [("text", text.encode())]
        if target is not None:
            params.append(("target", target.encode()))
        expect = (
            Expect(200, answer)
            if good_deadline
            else Expect(422, code="invalid_request", says=("X-Request-Timeout",))
        )
        return Case("POST", "/", QUERY, dict(headers), params=params, expect=expect)
    if dialect == OURS:
        payload: dict[str, Any] = {"text": text}
        if target is not None:
            payload["target"] = target
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **headers}
        expect = (
            Expect(200, None if answer is None else {"translation": answer})
            if good_deadline
            else Expect(422, code="invalid_request", says=("X-Request-Timeout",))
        )
        return Case("POST", "/translate", OURS, headers, body, payload=payload, expect=expect)
    fields: dict[str, Any] = {"q": text, "source": "en", "target": target or "fr"}
    fields.update(libre_extra or {})
    if form:
        assert isinstance(text, str)
        body = urlencode(fields).encode()
        headers = {"Content-Type": FORM, **headers}
    else:
        body = json.dumps(fields).encode()
        headers = {"Content-Type": "application/json", **headers}
    reply: Any = None
    if answer is not None:
        reply = {"translatedText": answer}
        if fields["source"] == "auto":  # English phrases of four words or more (see below)
            one = {"confidence": None, "language": "en"}
            reply["detectedLanguage"] = [one] * len(texts) if as_list else one
        if int(fields.get("alternatives") or 0) > 0:
            reply["alternatives"] = [[] for _ in texts] if as_list else []
    expect = Expect(200, reply) if good_deadline else Expect(400, says=("X-Request-Timeout",))
    payload = {k: str(v) for k, v in fields.items()} if form else fields
    return Case("POST", "/translate", LIBRE, headers, body, payload=payload, expect=expect)


# --- strategies -------------------------------------------------------------------------------

any_character = st.characters(exclude_categories=())  # surrogates and controls included
any_text = st.text(any_character, max_size=60)
# Finite floats: JSON has no NaN or Infinity (the raw-bytes test sends them anyway).
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=10,
)
odd_target = st.one_of(
    st.sampled_from(["fr", "de", "FR", "", "en", "es", "fr ", "zz-ZZ", "auto"]),
    st.text(max_size=6),
    json_value,
)
odd_source = st.one_of(st.sampled_from(["en", "auto", "fr", "", "EN", "zz"]), json_value)
visible_ascii = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
# A header value an HTTP client sends: no controls (tab inside allowed), no leading or trailing
# whitespace (clients refuse the one, servers drop the other). Latin-1 above 0x7F is obs-text:
# allowed by RFC 9110, sent byte for byte by requests.
latin1_text = st.text(
    st.characters(codec="latin-1", exclude_categories=("Cc",)) | st.just("\t"), max_size=40
).map(str.strip)  # all of Unicode's spaces at the ends (U+00A0 too): requests refuses them
ascii_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\t"), max_size=140
).map(lambda v: v.strip(" \t"))
timeout_header = st.one_of(
    st.none(),
    st.sampled_from(ODD_TIMEOUTS),
    st.floats(min_value=-5, max_value=400, allow_nan=False).map(repr),
    st.text(visible_ascii, max_size=8),
    latin1_text,
)
# Visible ASCII only where Serve reads the header itself: an obs-text X-Request-ID is a 500
# from Serve (test_answered_before_the_graph_sees_the_request).
request_id_header = st.one_of(
    st.none(),
    st.sampled_from(["", "order-4711", "x" * 128, "x" * 129, "a b", "a\tb", "-"]),
    st.text(visible_ascii, min_size=1, max_size=140),
    ascii_text,
    st.integers(0, 9000).map(lambda n: "r" * n),
)
authorization_header = st.one_of(
    st.none(),
    st.sampled_from(["", "Bearer", "Bearer abc", "bearer abc", "Basic dXNlcjpwYXNz", "Token x"]),
    st.text(visible_ascii, max_size=300).map(lambda v: f"Bearer {v}"),
    latin1_text,
)


@st.composite
def odd_headers(draw, content_types: list[str | None] | None = None) -> dict[str, str]:
    """Headers beside the body: the deadline, the request id, a key, the content type."""
    headers: dict[str, str] = {}
    for name, strategy in (
        ("X-Request-Timeout", timeout_header),
        ("X-Request-ID", request_id_header),
        ("Authorization", authorization_header),
    ):
        value = draw(strategy)
        if value is not None:
            headers[name] = value
    if content_types is not None:
        content_type = draw(st.sampled_from(content_types))
        if content_type is not None:
            headers["Content-Type"] = content_type
    if draw(st.booleans()):
        headers["Accept"] = draw(st.sampled_from(["text/html", "application/xml", "*/*", ""]))
    return headers


@st.composite
def phrases_of_one_target(draw, max_size: int = 4) -> tuple[str, list]:
    target = draw(st.sampled_from(TARGETS))
    chosen = draw(st.lists(st.sampled_from(BY_TARGET[target]), min_size=1, max_size=max_size))
    return target, chosen


@st.composite
def valid_translation(draw, dialect: str, maximum_s: float, form: bool = False) -> Case:
    """A request that is valid in ``dialect``, its phrasebook answer known exactly."""
    target, phrases = draw(phrases_of_one_target(1 if dialect == QUERY or form else 4))
    as_list = dialect not in (QUERY,) and not form and (len(phrases) > 1 or draw(st.booleans()))
    send_target: str | None = target
    if target == "fr" and draw(st.booleans()) and dialect != LIBRE:
        send_target = None  # the default, fr
    extra: dict[str, Any] = {}
    if dialect == LIBRE:
        extra["source"] = draw(st.sampled_from(["en", "auto"]))
        if extra["source"] == "auto":
            # Among de, en and fr, one to three words can pass for another language ("No
            # problem." for German); from four words on, every phrasebook sentence is told.
            phrases = [p for p in phrases if len(p.text.split()) >= 4] or phrases
            if any(len(p.text.split()) < 4 for p in phrases):
                extra["source"] = "en"
        for name, values in (
            ("format", ["text", ""]),
            ("alternatives", [0, 1, 3, "2", "0", ""]),
            ("api_key", ["", "some-key", "ключ"]),
        ):
            if draw(st.booleans()):
                extra[name] = draw(st.sampled_from(values))
        if form:
            extra = {k: str(v) for k, v in extra.items()}
    headers = draw(odd_headers())
    return translation_case(
        dialect,
        [p.text for p in phrases],
        [served(p) for p in phrases],
        as_list=as_list,
        target=send_target,
        headers=headers,
        maximum_s=maximum_s,
        libre_extra=extra,
        form=form,
    )


def utf8_quoted(text: str) -> str:
    """Percent-encoded UTF-8, a lone surrogate included (as the bytes no decoder accepts)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def info(http, base_url) -> dict[str, Any]:
    """The instance's limits and deadlines, as it serves them now."""
    response = http.get(f"{base_url}/info", timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def summary():
    """Each test's line, printed again together when the module is done (``pytest -s``)."""
    lines: list[str] = []
    yield lines
    print("\nfuzz summary:")  # noqa: T201
    for line in lines:
        print(f"  {line}")  # noqa: T201


@pytest.fixture
def run(http, base_url, summary, request) -> Callable[..., Tally]:
    """``run(cases, examples, minimum)``: send every generated case and check it; the test's
    own tally, printed and logged, with at least ``minimum`` requests sent."""

    def runner(cases: st.SearchStrategy[Case], examples: int, minimum: int | None = None) -> Tally:
        tally = Tally(request.node.name)

        @fuzz(examples)
        @given(case=cases)
        def one(case: Case) -> None:
            check(case, send(http, base_url, case), tally)

        try:
            one()
        finally:
            summary.append(tally.line())
            print(tally.line())  # noqa: T201
            logger.info("%s", tally.line())
        assert tally.sent >= (examples if minimum is None else minimum), tally.line()
        return tally

    return runner


# --- our shape --------------------------------------------------------------------------------


@st.composite
def our_requests(draw, maximum_s: float) -> Case:
    if draw(st.integers(0, 4)) == 0:
        return draw(valid_translation(OURS, maximum_s))
    payload: dict[str, Any] = {"text": draw(st.one_of(any_text, st.lists(any_text, max_size=6)))}
    if draw(st.integers(0, 3)) == 0:
        payload["text"] = draw(json_value)
    if draw(st.booleans()):
        payload["target"] = draw(odd_target)
    if draw(st.integers(0, 2)) == 0:
        payload["source"] = draw(odd_source)
    if draw(st.integers(0, 3)) == 0:  # documents: not predicted, but for refusals before parsing
        payload["format"] = draw(
            st.one_of(st.sampled_from(["text", "html", "xml", "HTML", "markdown", ""]), json_value)
        )
    if draw(st.integers(0, 3)) == 0:
        name = draw(
            st.one_of(st.sampled_from(["extra", "q", "source", "format", "cache"]), any_text)
        )
        payload[name] = draw(json_value)
    content_type = draw(st.sampled_from(JSON_TYPES * 4 + FORM_TYPES + OTHER_TYPES + [None]))
    headers = draw(odd_headers())
    if content_type is not None:
        headers["Content-Type"] = content_type
    # ASCII escapes, or raw UTF-8 (a lone surrogate then makes the body invalid UTF-8).
    body = json.dumps(payload, ensure_ascii=draw(st.booleans()))
    raw = body.encode("utf-8", "surrogatepass")
    dialect, meaning = dialect_of(content_type, raw)
    expect = refusal_of(content_type, dialect, meaning, headers, maximum_s)
    return Case("POST", "/translate", dialect, headers, raw, payload=meaning, expect=expect)


def test_our_shape(run, info):
    tally = run(our_requests(info["deadlines"]["max_request_timeout_s"]), 420)
    assert tally.counts["exact"] and tally.counts["4xx"], tally.line()


# --- LibreTranslate's shape, JSON and form ---------------------------------------------------


libre_value = st.one_of(json_value, any_text)


@st.composite
def libre_json_requests(draw, maximum_s: float) -> Case:
    if draw(st.integers(0, 3)) == 0:
        return draw(valid_translation(LIBRE, maximum_s))
    fields: dict[str, Any] = {}
    choices = {
        "q": st.one_of(
            st.sampled_from([p.text for p in PHRASES]),
            any_text,
            st.lists(any_text, max_size=5),
            json_value,
        ),
        "source": st.one_of(st.sampled_from(["en", "auto", "es", "", "EN", None]), libre_value),
        "target": st.one_of(st.sampled_from(["fr", "de", "es", "", None]), libre_value),
        "format": st.one_of(st.sampled_from(["text", "html", "", "markdown", None]), libre_value),
        "api_key": st.one_of(st.sampled_from(["", "key", None]), libre_value),
        "alternatives": st.one_of(
            st.sampled_from([0, 1, 3, -1, "2", "x", None, True, 1.5, []]), libre_value
        ),
        "secret": libre_value,
    }
    for name, strategy in choices.items():
        if draw(st.integers(0, 3 if name in ("q", "source", "target") else 1)) > 0:
            fields[name] = draw(strategy)
    if not fields or draw(st.integers(0, 7)) == 0:
        fields[draw(st.sampled_from(["q", "format", "secret"]))] = draw(libre_value)
    if draw(st.integers(0, 5)) == 0:
        fields[draw(any_text)] = draw(json_value)  # a field no one defines
    headers = draw(odd_headers())
    headers["Content-Type"] = draw(st.sampled_from(JSON_TYPES))
    raw = json.dumps(fields, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    dialect, meaning = dialect_of(headers["Content-Type"], raw)
    expect = refusal_of(headers["Content-Type"], dialect, meaning, headers, maximum_s)
    return Case("POST", "/translate", dialect, headers, raw, payload=meaning, expect=expect)


def test_libretranslate_json(run, info):
    tally = run(libre_json_requests(info["deadlines"]["max_request_timeout_s"]), 380)
    assert tally.counts["exact"] and tally.counts["4xx"], tally.line()


form_name = st.one_of(
    st.sampled_from(["q", "source", "target", "format", "api_key", "alternatives", "text"]),
    any_text,
)
form_value = st.one_of(
    st.sampled_from([p.text for p in PHRASES] + ["en", "auto", "fr", "de", "html", "1", ""]),
    any_text,
    st.just("Good night.\r\nSee you tomorrow."),
)


@st.composite
def libre_form_requests(draw, maximum_s: float) -> Case:
    if draw(st.integers(0, 3)) == 0:
        return draw(valid_translation(LIBRE, maximum_s, form=True))
    pairs = draw(st.lists(st.tuples(form_name, form_value), max_size=7))
    if draw(st.booleans()):
        body = "&".join(f"{utf8_quoted(k)}={utf8_quoted(v)}" for k, v in pairs).encode()
    else:  # a form's raw bytes: latin-1, or anything at all
        body = draw(
            st.one_of(
                st.just("&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")),
                st.binary(max_size=120),
            )
        )
    headers = draw(odd_headers())
    headers["Content-Type"] = draw(st.sampled_from(FORM_TYPES))
    # A form that is not UTF-8 is read before its dialect is known: answered in ours.
    dialect, meaning = dialect_of(headers["Content-Type"], body)
    expect = refusal_of(headers["Content-Type"], dialect, meaning, headers, maximum_s)
    return Case("POST", "/translate", dialect, headers, body, payload=meaning, expect=expect)


def test_libretranslate_form(run, info):
    tally = run(libre_form_requests(info["deadlines"]["max_request_timeout_s"]), 320)
    assert tally.counts["exact"] and tally.counts["4xx"], tally.line()


# --- DeepL's API v2, JSON and form -------------------------------------------------------------


def deepl_body(
    fields: dict[str, Any], form: bool, *, ensure_ascii: bool = True
) -> tuple[bytes, str]:
    """The fields as a form (``text`` repeated, every value written as text) or as JSON."""
    if not form:
        body = json.dumps(fields, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
        return body, "application/json"
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one if isinstance(one, str) else json.dumps(one)))
    body = "&".join(f"{utf8_quoted(k)}={utf8_quoted(v)}" for k, v in pairs).encode()
    return body, FORM


@st.composite
def valid_deepl(draw, maximum_s: float) -> Case:
    """A valid DeepL request for phrasebook sentences, its answer known exactly: the options
    that change nothing here (deepl.py) drawn, the deadline header fuzzed."""
    target, phrases = draw(phrases_of_one_target(4))
    form = draw(st.booleans())
    source = draw(st.sampled_from(["EN", "en", "EN-US", None]))
    if source is None:  # detected: four words or more tell every phrasebook sentence
        phrases = [p for p in phrases if len(p.text.split()) >= 4] or phrases
        if any(len(p.text.split()) < 4 for p in phrases):
            source = "EN"
    as_list = form or len(phrases) > 1 or draw(st.booleans())
    fields: dict[str, Any] = {
        "text": [p.text for p in phrases] if as_list else phrases[0].text,
        "target_lang": draw(st.sampled_from(DEEPL_TARGETS[target])),
    }
    if source is not None:
        fields["source_lang"] = source
    options = {
        "split_sentences": ["0", "1", "nonewlines", "", 0, 1],
        "preserve_formatting": [True, False, "1", "0", "true", 1],
        "formality": ["default", "prefer_more", "prefer_less", "PREFER_LESS", ""],
        "context": ["A greeting.", "", "ключ"],
        "show_billed_characters": [True, False, "1", "0", "true"],
        "glossary_id": ["", None],
        "model_type": ["prefer_quality_optimized"],
    }
    for name, values in options.items():
        if draw(st.integers(0, 2)) == 0:
            value = draw(st.sampled_from(values))
            if value is not None or not form:
                fields[name] = value
    if form:
        fields = {k: v if isinstance(v, list) else str(v) for k, v in fields.items()}
    body, content_type = deepl_body(fields, form)
    headers = draw(odd_headers())
    headers["Content-Type"] = content_type
    billed = str(fields.get("show_billed_characters", "")).lower() in ("1", "true")
    translations = []
    for phrase in phrases:
        entry: dict[str, Any] = {"detected_source_language": "EN", "text": served(phrase)}
        if billed:
            entry["billed_characters"] = len(phrase.text)
        translations.append(entry)
    expect = (
        Expect(200, {"translations": translations})
        if timeout_ok(headers.get("X-Request-Timeout"), maximum_s)
        else Expect(400, says=("X-Request-Timeout",))
    )
    meaning, _ = deepl_fields(content_type, body)
    return Case("POST", "/v2/translate", DEEPL, headers, body, payload=meaning, expect=expect)


deepl_value = st.one_of(json_value, any_text)
DEEPL_CHOICES = {
    "text": st.one_of(
        st.sampled_from([p.text for p in PHRASES]),
        st.lists(st.sampled_from([p.text for p in PHRASES]), max_size=4),
        any_text,
        st.lists(any_text, max_size=5),
        json_value,
    ),
    "target_lang": st.one_of(
        st.sampled_from(["FR", "DE", "EN-GB", "EN-US", "ES", "", "fr", " de ", "PT-BR", "-"]),
        deepl_value,
    ),
    "source_lang": st.one_of(
        st.sampled_from(["EN", "en", "FR", "DE", "ES", "", "auto", "EN-GB", " "]), deepl_value
    ),
    "tag_handling": st.one_of(
        st.sampled_from(["html", "xml", "HTML", "markdown", ""]), deepl_value
    ),
    "ignore_tags": st.one_of(
        st.sampled_from(["code", "x-keep,b", "", ["span", "b"], [1], 5]), deepl_value
    ),
    "splitting_tags": st.sampled_from(["p", "br,div", ["p"], {"a": 1}]),
    "split_sentences": st.one_of(
        st.sampled_from(["0", "1", "nonewlines", "2", 0, 1, True, "", "NONEWLINES"]), deepl_value
    ),
    "preserve_formatting": st.one_of(
        st.sampled_from([True, False, "1", "0", "true", "yes", "", 1, 2, None]), deepl_value
    ),
    "formality": st.one_of(
        st.sampled_from(["default", "more", "less", "prefer_more", "prefer_less", "MORE", "x", ""]),
        deepl_value,
    ),
    "glossary_id": st.one_of(st.sampled_from(["g1", "", None, 5, "def3a26b"]), deepl_value),
    "context": deepl_value,
    "show_billed_characters": st.one_of(
        st.sampled_from([True, False, "1", "true", "0", 1]), deepl_value
    ),
}
DEEPL_OFTEN = ("text", "target_lang")


@st.composite
def deepl_requests(draw, maximum_s: float) -> Case:
    if draw(st.integers(0, 3)) == 0:
        return draw(valid_deepl(maximum_s))
    fields: dict[str, Any] = {}
    for name, strategy in DEEPL_CHOICES.items():
        # text and target_lang in most requests, source_lang in a third, each option in a sixth
        if draw(st.integers(0, 5)) < (
            5 if name in DEEPL_OFTEN else 2 if name == "source_lang" else 1
        ):
            fields[name] = draw(strategy)
    if draw(st.integers(0, 5)) == 0:
        fields[draw(st.one_of(st.sampled_from(["auth_key", "q", "format"]), any_text))] = draw(
            json_value
        )
    headers = draw(odd_headers())
    form = draw(st.booleans())
    if form:
        # A form's values are text: a list repeats its field (text) or its values are the
        # JSON they were drawn as; any raw bytes at times.
        fields = {
            k: (
                [x if isinstance(x, str) else json.dumps(x) for x in v]
                if isinstance(v, list)
                else v
                if isinstance(v, str)
                else json.dumps(v)
            )
            for k, v in fields.items()
        }
        body, content_type = deepl_body(fields, True)
        if draw(st.integers(0, 7)) == 0:
            body = draw(st.binary(max_size=120))
        content_type = draw(st.sampled_from(FORM_TYPES))
    else:
        body, content_type = deepl_body(fields, False, ensure_ascii=draw(st.booleans()))
        content_type = draw(st.sampled_from(JSON_TYPES * 3 + OTHER_TYPES))
        if draw(st.integers(0, 9)) == 0:
            body = draw(
                st.one_of(
                    json_value.map(lambda v: json.dumps(v).encode()),
                    st.sampled_from([b"", b"  \n", b"{", b"NaN", b'{"text": Infinity}']),
                )
            )
    headers["Content-Type"] = content_type
    meaning, refusal = deepl_fields(content_type, body)
    expect = refusal or deepl_verdict(meaning, headers, maximum_s)
    return Case("POST", "/v2/translate", DEEPL, headers, body, payload=meaning, expect=expect)


def test_deepl_api(run, info):
    tally = run(deepl_requests(info["deadlines"]["max_request_timeout_s"]), 300)
    assert tally.counts["exact"] and tally.counts["4xx"], tally.line()


# --- markup in every dialect -------------------------------------------------------------------

# Each dialect's way to say "these texts are documents" (deployments/http/documents.py).
MARKUP_DIALECTS = [(OURS, "html"), (OURS, "xml"), (LIBRE, "html"), (DEEPL, "html"), (DEEPL, "xml")]
ENTITIES = ["&amp;", "&nbsp;", "&#39;", "&lt;", "&gt;", "&copy;", "&#x1F600;", "&bogus;", "&"]
markup_attribute = st.one_of(
    st.sampled_from(
        [
            ' class="x"',
            " id=a1",
            ' title="Caf&eacute; &amp; more"',
            ' data-n="1"',
            ' lang="en"',
            " hidden",
            ' class="notranslate"',
            " translate='no'",
            ' title="Good night."',
            ' x="a>b"',
        ]
    ),
    st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=6).map(
        lambda name: f' data-{name}="{name}"'
    ),
)
markup_attributes = st.lists(markup_attribute, max_size=2, unique=True).map("".join)
markup_text = st.one_of(
    st.sampled_from([p.text for p in PHRASES]).map(lambda t: html.escape(t, quote=False)),
    st.sampled_from(["Hello ", " world", "\n  ", " ", "a &lt; b", "Ray Serve", "x > y"]),
    st.sampled_from(ENTITIES),
    any_text.map(lambda t: html.escape(t, quote=False)),
    any_text,  # raw: a bare "<" or "&", a control character, a lone surrogate
)


def element(tag: str, attributes: str, inner: str, xml: bool) -> str:
    """An element as written, with the parents HTML expects for li and td."""
    if tag == "br" or tag == "img":
        src = ' src="a.png" alt="A picture."' if tag == "img" else ""
        return f"<{tag}{src}{attributes}{'/' if xml else ''}>"
    if tag == "a":
        attributes = f' href="/a?x=1&amp;y=2"{attributes}'
    if tag == "span-no":
        return f'<span translate="no"{attributes}>{inner}</span>'
    written = f"<{tag}{attributes}>{inner}</{tag}>"
    if tag == "li":
        return f"<ul>{written}</ul>"
    if tag == "td":
        return f"<table><tr>{written}</tr></table>"
    return written


def markup_tree(xml: bool) -> st.SearchStrategy[str]:
    leaf = st.one_of(
        markup_text,
        markup_text,
        st.sampled_from(["br", "img"]).map(lambda tag: element(tag, "", "", xml)),
        st.sampled_from(["<!-- a comment -->", "<!---->", "<!-- <p>Hello</p> -->"]),
    )
    tags = ["p", "h1", "li", "td", "b", "i", "a", "span-no", "code", "pre", "div", "span"]

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(
            lambda tag, attributes, inner: element(tag, attributes, "".join(inner), xml),
            st.sampled_from(tags),
            markup_attributes,
            st.lists(children, max_size=4),
        )

    return st.recursive(leaf, extend, max_leaves=12)


@st.composite
def broken(draw, document: str) -> str:
    """The document with one thing wrong: a tag cut out, a stray end tag, a bare "<", a
    control character, the end cut off."""
    how = draw(st.sampled_from(["drop", "stray", "bare", "control", "cut"]))
    at = draw(st.integers(0, len(document)))
    if how == "drop":
        tags = [m.span() for m in re.finditer(r"</?[a-z0-9]+[^>]*>", document)]
        if tags:
            start, end = draw(st.sampled_from(tags))
            return document[:start] + document[end:]
        return document
    if how == "stray":
        return document[:at] + draw(st.sampled_from(["</b>", "</p>", "</ul>"])) + document[at:]
    if how == "bare":
        return document[:at] + draw(st.sampled_from(["<", "< ", "<<", "<3", "</"])) + document[at:]
    if how == "control":
        return (
            document[:at] + draw(st.sampled_from(["\x00", "\x07", "\x1b", "\x7f"])) + document[at:]
        )
    return document[:at]


def written(text: str, reference: bool) -> str:
    text = html.escape(text, quote=False)
    return text.replace("'", "&#39;") if reference else text


# What XML refuses in an attribute: no value, no quotes, an entity HTML defines and XML not.
NOT_XML = (" hidden", " id=a1", "&eacute;")


@st.composite
def phrase_document(draw, phrases: list, xml: bool) -> tuple[str, str]:
    """A well-formed document whose only text is ``phrases``, one sentence a block (p, h1, li
    in a ul, td in a table tr) among markup with no text to translate (attributes, comments,
    br, img, whitespace, and blocks kept as written); and what the service must answer for it:
    each sentence replaced by its phrasebook translation, escaped."""
    kept = ['<span translate="no">Ray Serve &amp; more</span>', '<p class="notranslate">Hi</p>']
    if not xml:
        kept += ['<pre>if a &lt; b:\n    print("Hello world!")</pre>', "<code>x &gt; y</code>"]
    void = '<img src="a.png"/>' if xml else '<img src="a.png" alt="A picture.">'
    between = st.sampled_from(
        ["", "\n", "\n  ", "<!-- note -->", "<hr/>" if xml else "<hr>", void, *kept]
    )
    parts: list[tuple[str, str]] = [(draw(between), "")] if draw(st.booleans()) else []
    for phrase in phrases:
        # An apostrophe written as a numeric reference: the translation's are written so too.
        reference = draw(st.booleans()) and "'" in phrase.text
        source, translation = written(phrase.text, reference), written(served(phrase), reference)
        pad = draw(st.sampled_from(["", "", " ", "\n  "]))  # kept, outside the sentence
        tag = draw(st.sampled_from(["p", "h1", "li", "td"]))
        attributes = draw(
            markup_attributes.filter(
                lambda a: "translate" not in a and not (xml and any(n in a for n in NOT_XML))
            )
        )
        parts.append(
            (
                element(tag, attributes, f"{pad}{source}{pad}", xml),
                element(tag, attributes, f"{pad}{translation}{pad}", xml),
            )
        )
        parts.append((draw(between), ""))
    document = "".join(source for source, _ in parts)
    answer = "".join(translation or source for source, translation in parts)
    if xml or draw(st.booleans()):
        root = draw(st.sampled_from(["div", "section", "body"]))
        document, answer = f"<{root}>{document}</{root}>", f"<{root}>{answer}</{root}>"
    if xml and draw(st.booleans()):
        document, answer = (f'<?xml version="1.0"?>\n{d}' for d in (document, answer))
    return document, answer


@st.composite
def markup_requests(draw, maximum_s: float) -> Case:
    """Documents in one of the dialects: well-formed phrasebook documents (their answer known
    exactly), or generated trees, sometimes broken (their answer's shape known)."""
    dialect, kind = draw(st.sampled_from(MARKUP_DIALECTS))
    xml = kind == "xml"
    target, phrases = draw(phrases_of_one_target(6))
    exact = draw(st.booleans())
    if exact:
        cut = sorted(draw(st.lists(st.integers(1, len(phrases)), max_size=2, unique=True)))
        groups = [
            phrases[a:b] for a, b in zip([0, *cut], [*cut, len(phrases)], strict=True) if a < b
        ]
        built = [draw(phrase_document(group, xml)) for group in groups]
        documents = [document for document, _ in built]
        answers: list[str] | None = [answer for _, answer in built]
    else:
        tree = markup_tree(xml)
        documents = draw(st.lists(tree, min_size=1, max_size=3))
        if draw(st.integers(0, 2)) == 0:
            index = draw(st.integers(0, len(documents) - 1))
            documents[index] = draw(broken(documents[index]))
        if xml and draw(st.booleans()):
            documents = [f"<doc>{d}</doc>" for d in documents]
        answers = None
    as_list = len(documents) > 1 or draw(st.booleans())
    text: str | list[str] = documents if as_list else documents[0]
    answer: Any = answers if as_list or answers is None else answers[0]
    auto = not exact and draw(st.integers(0, 3)) == 0
    form = dialect != OURS and not (dialect == LIBRE and as_list) and draw(st.booleans())
    headers: dict[str, str] = {}
    if draw(st.integers(0, 4)) == 0:
        headers["X-Request-ID"] = draw(st.text(visible_ascii, min_size=1, max_size=20))
    if dialect == OURS:
        payload: dict[str, Any] = {"text": text, "format": kind, "target": target}
        if draw(st.booleans()) or auto:
            payload["source"] = "auto" if auto else "en"
        body, content_type = (
            json.dumps(payload).encode("utf-8", "surrogatepass"),
            "application/json",
        )
        expect = our_verdict(payload, headers, maximum_s)
        if answer is not None:
            expect = Expect(200, {"translation": answer})
    elif dialect == LIBRE:
        fields = {"q": text, "source": "auto" if auto else "en", "target": target, "format": kind}
        if form:
            pairs = [(k, v) for k, v in fields.items() if isinstance(v, str)]
            body = "&".join(f"{utf8_quoted(k)}={utf8_quoted(v)}" for k, v in pairs).encode()
            content_type = FORM
        else:
            body, content_type = json.dumps(fields).encode(), "application/json"
        # A form that is not UTF-8 (a lone surrogate) is refused in our shape.
        dialect, payload = dialect_of(content_type, body)
        expect = refusal_of(content_type, dialect, payload, headers, maximum_s)
        if answer is not None:
            expect = Expect(200, {"translatedText": answer})
    else:
        payload = {"text": text, "target_lang": draw(st.sampled_from(DEEPL_TARGETS[target]))}
        payload["tag_handling"] = kind
        if not auto:
            payload["source_lang"] = "EN"
        body, content_type = deepl_body(payload, form)
        payload, refusal = deepl_fields(content_type, body)
        expect = refusal or deepl_verdict(payload, headers, maximum_s)
        if answer is not None:
            entries = [{"detected_source_language": "EN", "text": a} for a in answers or []]
            expect = Expect(200, {"translations": entries})
    headers["Content-Type"] = content_type
    return Case(
        "POST", dialect_path(dialect), dialect, headers, body, payload=payload, expect=expect
    )


def dialect_path(dialect: str) -> str:
    return "/v2/translate" if dialect == DEEPL else "/translate"


def test_markup_in_every_dialect(run, info):
    tally = run(markup_requests(info["deadlines"]["max_request_timeout_s"]), 300)
    assert tally.counts["exact"] >= 50 and tally.counts["4xx"], tally.line()


# --- the tutorial's query route ---------------------------------------------------------------


@st.composite
def query_requests(draw, maximum_s: float) -> Case:
    if draw(st.integers(0, 3)) == 0:
        return draw(valid_translation(QUERY, maximum_s))
    params: list[tuple[str, bytes]] = []
    text = draw(st.one_of(st.none(), any_text))
    if text is not None:
        params.append(("text", text.encode("utf-8", "surrogatepass")))
    if draw(st.booleans()):
        target = draw(st.one_of(st.sampled_from(["fr", "de", "es", ""]), any_text))
        params.append(("target", target.encode("utf-8", "surrogatepass")))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(["text", "target", "q", "x"]))
        params.append((name, draw(any_text).encode("utf-8", "surrogatepass")))
    headers = draw(odd_headers(content_types=[None, *JSON_TYPES[:2], FORM, "text/plain"]))
    body = draw(st.one_of(st.none(), st.binary(max_size=40)))
    names = [name for name, _ in params]
    expect = None
    if "text" not in names:
        expect = Expect(422, code="invalid_request", says=("text",))
    elif names.count("text") == 1 and names.count("target") <= 1:
        # The query is decoded as UTF-8 with errors replaced: a lone surrogate arrives as U+FFFD.
        fields = {name: value.decode("utf-8", "replace") for name, value in params}
        timeout = headers.get("X-Request-Timeout")
        expect = verdict([fields["text"]], fields.get("target", "fr"), timeout, maximum_s, QUERY)
    return Case("POST", "/", QUERY, headers, body, params=params, expect=expect)


def test_the_tutorials_query_route(run, info):
    tally = run(query_requests(info["deadlines"]["max_request_timeout_s"]), 300)
    assert tally.counts["exact"] and tally.counts["4xx"], tally.line()


# --- every other route and method -------------------------------------------------------------

JSON_ROUTES = ("/health", "/languages", "/info", "/openapi.json")
HTML_ROUTES = ("/docs", "/redoc", "/docs/oauth2-redirect")
POST_ROUTES = ("/translate", "/", "/detect")
# LibreTranslate's routes this service does not provide (docs/api.md): 404.
NOT_PROVIDED = ("/translate_file", "/suggest", "/frontend/settings")
# DeepL's API v2 (deployments/http/deepl.py): its lists answer GET and POST (a form may carry
# the list's type); what is not there under /v2/ is a 404 in its shape (glossaries, documents).
DEEPL_ROUTES = ("/v2/translate", "/v2/languages", "/v2/usage")
DEEPL_LISTS = ("/v2/languages", "/v2/usage")
DEEPL_NOT_PROVIDED = ("/v2/glossaries", "/v2/document", "/v2/glossary-language-pairs", "/v2/")
KNOWN = JSON_ROUTES + HTML_ROUTES + POST_ROUTES + DEEPL_ROUTES
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


def route_expectation(method: str, path: str) -> Expect:
    """What Starlette's router and the app answer (docs/api.md: 404 and 405 in our shape)."""
    route = unquote(path, errors="replace")
    if route.endswith("/") and route != "/" and route.rstrip("/") in KNOWN:
        return Expect(307)
    if route.startswith("/v2/"):  # DeepL's shape, {"message": ...}: no code
        return deepl_route_expectation(method, route)
    if route not in KNOWN:
        return Expect(404, code="not_found")
    if method == "GET" and route in JSON_ROUTES:
        return Expect(200)
    if method in ("GET", "HEAD") and route in HTML_ROUTES:
        return Expect(200, "html")
    if method == "POST" and route == "/translate":  # no body: not JSON
        return Expect(400, code="malformed_json")
    if method == "POST" and route == "/":
        return Expect(422, code="invalid_request", says=("text",))
    if method == "POST" and route == "/detect":
        # No content type is JSON (as FastAPI reads it); no body is not: LibreTranslate's 400.
        return Expect(400, says=("JSON",))
    return Expect(405, code="method_not_allowed")


def deepl_route_expectation(method: str, route: str) -> Expect:
    """Under /v2/ (app.py's ``_http_error``): a 404 naming the three routes there, a 405, or
    the route's answer to a request without a body."""
    if route not in DEEPL_ROUTES:
        return Expect(404, says=("/v2/translate",))
    if route in DEEPL_LISTS and method in ("GET", "POST"):
        return Expect(200)
    if route == "/v2/translate" and method == "POST":  # no body: no fields
        return Expect(400, says=("'text' not specified",))
    return Expect(405, says=(method,))


segment = st.text(any_character, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


def encoded_path(segments: list[str]) -> str:
    return "/" + "/".join(utf8_quoted(s) for s in segments)


@st.composite
def route_requests(draw) -> Case:
    path = draw(
        st.one_of(
            st.sampled_from(KNOWN + NOT_PROVIDED),
            st.sampled_from(DEEPL_ROUTES),
            st.sampled_from(DEEPL_ROUTES + DEEPL_NOT_PROVIDED),
            st.tuples(
                st.sampled_from([r for r in KNOWN if r != "/detect"]), st.sampled_from(["/", "//"])
            ).map("".join),
            st.lists(segment, min_size=1, max_size=3).map(encoded_path),
        )
    )
    if draw(st.sampled_from([False] * 9 + [True])):  # a made-up route under /v2/
        path = encoded_path(["v2", *draw(st.lists(segment, min_size=1, max_size=2))])
    # GET most, and under /v2/ POST as often: DeepL's routes take both.
    deepl = unquote(path, errors="replace").startswith("/v2/")
    method = draw(
        st.one_of(
            st.just("GET"), st.just("POST") if deepl else st.nothing(), st.sampled_from(METHODS)
        )
    )
    # Any query: no GET route reads one (the POST routes' own fields excluded; DeepL's read
    # the query as fields, and /v2/languages its type).
    names = any_text.filter(lambda name: name not in ("text", "target", "type"))
    params = draw(st.lists(st.tuples(names, any_text), max_size=2))
    encoded = [
        (k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in params
    ]
    return Case(
        method,
        path,
        ROUTES,
        draw(odd_headers()),
        params=encoded or None,
        expect=route_expectation(method, path),
    )


def test_every_route_and_method(run):
    tally = run(route_requests(), 300)
    apart = tally.counts["503"] + tally.counts["504"]
    assert tally.counts["expected"] + apart == tally.sent, tally.line()
    assert min(tally.counts["2xx"], tally.counts["3xx"], tally.counts["4xx"]) > 0, tally.line()


# --- odd headers on valid requests ------------------------------------------------------------


@st.composite
def header_requests(draw, maximum_s: float) -> Case:
    """A valid translation in some dialect, its headers fuzzed: the answer is exact, or the
    error that names X-Request-Timeout, or (a fuzzed deadline too short) a 504."""
    dialect = draw(st.sampled_from([OURS, LIBRE, QUERY]))
    form = dialect == LIBRE and draw(st.booleans())
    case = draw(valid_translation(dialect, maximum_s, form=form))
    if dialect != QUERY:
        types = FORM_TYPES if form else JSON_TYPES
        case.headers["Content-Type"] = draw(st.sampled_from(types))
        case.chunked = draw(st.booleans())
    for name in ("Accept-Encoding", "X-Forwarded-For", "Cookie", "User-Agent"):
        if draw(st.integers(0, 4)) == 0:
            case.headers[name] = draw(latin1_text)
    if draw(st.integers(0, 4)) == 0:
        case.headers["Connection"] = draw(st.sampled_from(["close", "keep-alive"]))
    return case


def test_odd_headers_on_valid_requests(run, info):
    tally = run(header_requests(info["deadlines"]["max_request_timeout_s"]), 250)
    assert tally.counts["exact"] >= 50, tally.line()


# --- arbitrary bodies -------------------------------------------------------------------------


@st.composite
def arbitrary_bodies(draw, maximum_s: float) -> Case:
    body = draw(
        st.one_of(
            json_value.map(lambda v: json.dumps(v).encode()),
            st.sampled_from(
                [b"NaN", b'{"text": Infinity}', b'{"text": "a", "target": -Infinity}', b"[" * 5000]
            ),
            st.binary(max_size=200),
        )
    )
    content_type = draw(st.sampled_from([*JSON_TYPES, *FORM_TYPES[:1], None]))
    headers = {} if content_type is None else {"Content-Type": content_type}
    dialect, meaning = dialect_of(content_type, body)
    return Case(
        "POST",
        "/translate",
        dialect,
        headers,
        body,
        payload=meaning,
        expect=refusal_of(content_type, dialect, meaning, headers, maximum_s),
    )


def refusal_of(
    content_type: str | None, dialect: str, meaning: Any, headers: dict[str, str], maximum_s: float
) -> Expect | None:
    """What docs/api.md says ``POST /translate`` answers this body, once its dialect is known."""
    if media_type(content_type) != FORM and not is_json_type(content_type):
        return Expect(422, code="invalid_request", says=("content-type",))
    if dialect == LIBRE:
        return libre_verdict(meaning, headers, maximum_s)
    if meaning is UNREADABLE:  # not UTF-8 JSON, or a form that is not UTF-8
        if media_type(content_type) == FORM:
            return Expect(422, code="invalid_request", says=("UTF-8",))
        return Expect(400, code="malformed_json")
    return our_verdict(meaning, headers, maximum_s)


def test_arbitrary_bodies(run, info):
    tally = run(arbitrary_bodies(info["deadlines"]["max_request_timeout_s"]), 200)
    assert tally.counts["expected"] >= 150, tally.line()


# --- at, one below and one above each limit ---------------------------------------------------

PER_TEXT, TEXTS, PER_REQUEST = (
    "max_chars_per_text",
    "max_texts_per_request",
    "max_chars_per_request",
)
# Whitespace a text may be padded with: the gaps come back as they are, so the answer is
# still known exactly, and the padding costs the model nothing. Non-ASCII spaces: the limit
# counts code points, not bytes.
PADDING = {"spaces": " ", "lines": "\n", "mixed": " \t\n", "wide": "\u3000\u00a0"}
# Content the model must read all of: only sent with a deadline too short to meet (504): the
# point is that the size was let through.
DENSE = {"words": "Where is the station? ", "astral": "\U0001f600\U0001d11e e\u0301 "}


def fill(phrase_text: str, size: int, filler: str) -> str:
    """``phrase_text`` then ``filler`` repeated: exactly ``size`` characters."""
    if size <= len(phrase_text):
        return phrase_text[:size]
    pad = filler * (size // len(filler) + 1)
    return phrase_text + pad[: size - len(phrase_text)]


@st.composite
def limit_requests(draw, kind: str, offset: int, info: dict[str, Any]) -> Case:
    limits = info["limits"]
    maximum_s = info["deadlines"]["max_request_timeout_s"]
    limit = limits[kind]
    size = limit + offset
    over = offset > 0
    # LibreTranslate's form and the query route carry one text: only the per-text limit.
    dialects = [OURS, LIBRE, "form", QUERY] if kind == PER_TEXT else [OURS, LIBRE]
    dialect = draw(st.sampled_from(dialects))
    form = dialect == "form"
    dialect = LIBRE if form else dialect
    target, (phrase,) = draw(phrases_of_one_target(1))
    dense = draw(st.integers(0, 3)) == 0
    fillers = dict(PADDING)
    if dialect == QUERY:  # the text travels in the URL: ASCII, or HAProxy's 16 KiB refuses it
        fillers = {"spaces": " ", "lines": "\n"}
    filler_name = draw(st.sampled_from(sorted(fillers)))
    filler = fillers[filler_name]
    if dense:
        filler_name = draw(st.sampled_from(sorted(DENSE) if dialect != QUERY else ["words"]))
        filler = DENSE[filler_name]
    # A valid request's translation is slow when dense or long: a deadline it cannot meet
    # then (504, counted apart). Over the limit, any deadline: the refusal comes first.
    slow = dense or kind == TEXTS
    timeout = TINY_TIMEOUT if (dense or (slow and draw(st.booleans()))) else None
    if draw(st.integers(0, 3)) == 0 and not dense and timeout is None:
        timeout = draw(st.sampled_from(["60", str(maximum_s)]))
    headers = {} if timeout is None else {"X-Request-Timeout": timeout}

    pool = BY_TARGET[target]
    if kind == PER_TEXT:
        big = fill(phrase.text, size, filler)
        others = (
            draw(st.lists(st.sampled_from(pool), max_size=2))
            if dialect in (OURS, LIBRE) and not form
            else []
        )
        position = draw(st.integers(0, len(others)))
        as_list = bool(others) or (not form and dialect != QUERY and draw(st.booleans()))
        texts = [p.text for p in others]
        texts.insert(position, big)
        expected = [served(p) for p in others]
        expected.insert(
            position, fill(served(phrase), len(served(phrase)) + size - len(phrase.text), filler)
        )
        where = f"[{position}]" if as_list else ""
        actual, unit = size, "characters"
    elif kind == TEXTS:
        chosen = [pool[(pool.index(phrase) + k) % len(pool)] for k in range(size)]
        texts = [p.text for p in chosen]
        expected = [served(p) for p in chosen]
        as_list, where, actual, unit = True, "", size, "texts"
    else:
        per_text = limits[PER_TEXT]
        count = max(math.ceil(size / per_text), 1) + draw(st.integers(0, 3))
        count = min(count, limits[TEXTS])
        sizes = [size // count + (1 if k < size % count else 0) for k in range(count)]
        texts = [fill(phrase.text, s, filler) for s in sizes]
        exact = all(s >= len(phrase.text) for s in sizes) and not dense
        expected = (
            [
                fill(served(phrase), len(served(phrase)) + s - len(phrase.text), filler)
                for s in sizes
            ]
            if exact
            else None
        )
        as_list, where, actual, unit = True, "", size, "characters"
    if dense:
        expected = None
    if dialect == QUERY:
        as_list = False
    case = translation_case(
        dialect,
        texts,
        expected,
        as_list=as_list,
        target=target,
        headers=headers,
        maximum_s=maximum_s,
        form=form,
    )
    if over:
        if dialect == LIBRE:
            case.expect = Expect(400, says=(f"q{where}:", str(limit), str(actual)))
        else:
            details = {"limit": limit, "actual": actual, "unit": unit}
            case.expect = Expect(
                413, code="payload_too_large", details=details, says=(f"text{where}:",)
            )
    return case


@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["below", "at", "above"])
@pytest.mark.parametrize("kind", [PER_TEXT, TEXTS, PER_REQUEST])
def test_at_and_around_each_limit(run, info, kind, offset):
    examples = {PER_TEXT: 30, TEXTS: 8, PER_REQUEST: 14}[kind]
    tally = run(limit_requests(kind, offset, info), examples)
    if offset > 0:
        assert tally.counts["4xx"] == tally.sent, tally.line()
    else:
        assert tally.counts["4xx"] == 0, tally.line()
        apart = tally.counts["503"] + tally.counts["504"]
        assert tally.counts["2xx"] + apart == tally.sent, tally.line()


# --- what Serve or HAProxy answers before the graph -------------------------------------------


def _long_non_ascii_query(base_url: str) -> requests.Response:
    # 5000 characters, the per-text limit: 30,000 bytes of URL once percent-encoded.
    return requests.post(
        f"{base_url}/",
        params={"text": "é" * 4999 + "."},
        headers={"X-Request-Timeout": TINY_TIMEOUT},
        timeout=120,
    )


def _obs_text_request_id(base_url: str) -> requests.Response:
    # RFC 9110 allows obs-text (bytes 0x80-0xFF) in a field value; docs/api.md: an id that is
    # not visible ASCII is replaced, the request answered.
    return requests.post(
        f"{base_url}/translate",
        json={"text": "Good night."},
        headers={"X-Request-ID": "café"},
        timeout=60,
    )


def _serves_own_timeout_header(base_url: str) -> requests.Response:
    return requests.post(
        f"{base_url}/translate",
        json={"text": "Good night."},
        headers={"X-Request-Timeout-Seconds": "0.001"},
        timeout=60,
    )


@pytest.mark.parametrize(
    "send_it",
    [
        pytest.param(
            _long_non_ascii_query,
            marks=pytest.mark.xfail(
                raises=AssertionError,
                strict=True,
                reason="HAProxy (tune.bufsize 16 KiB) answers a longer request line itself: "
                "400 text/html",
            ),
            id="query-route-text-at-the-limit-in-non-ascii",
        ),
        pytest.param(
            _obs_text_request_id,
            marks=pytest.mark.xfail(
                raises=AssertionError,
                strict=True,
                reason="Serve's direct ingress decodes X-Request-ID as UTF-8: 500 text/plain",
            ),
            id="obs-text-request-id",
        ),
        pytest.param(
            _serves_own_timeout_header,
            marks=pytest.mark.xfail(
                raises=AssertionError,
                strict=True,
                reason="Serve's own X-Request-Timeout-Seconds header: 408 text/plain",
            ),
            id="serves-timeout-header",
        ),
    ],
)
def test_answered_before_the_graph_sees_the_request(base_url, send_it):
    """Requests a client may send that Serve or HAProxy answers before the ingress sees them:
    they break 'every error is JSON' (and, for the request id, 'no 5xx'). Strict, so a Ray
    that fixes one makes its case pass and its marker come off."""
    response = send_it(base_url)
    assert response.status_code in (200, 504), (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
