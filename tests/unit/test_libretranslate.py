"""LibreTranslate's API on ours (deployments/http/libretranslate.py): shapes, answers, errors.

The request and error shapes are those of LibreTranslate's documented API and its own tests.
"""

import json

import pytest

from deployments.core.errors import (
    DeadlineExceeded,
    InvalidRequest,
    MalformedJSON,
    Overloaded,
    PayloadTooLarge,
    TemporarilyUnavailable,
    TranslationFailed,
    Unauthorized,
    UnsupportedTarget,
)
from deployments.core.settings import RequestLimits
from deployments.http.bodies import is_form, is_json, parse_json
from deployments.http.errors import Dialect, error_answer
from deployments.http.libretranslate import (
    answer,
    api_key_in,
    detect_request,
    is_libretranslate,
    languages,
    parse_form,
    to_request,
)
from deployments.text.detection import Detection

LIMITS = RequestLimits()


@pytest.mark.parametrize(
    ("payload", "libre"),
    [
        ({"q": "Hello", "source": "en", "target": "fr"}, True),
        ({"q": ["a", "b"], "source": "auto", "target": "fr", "format": "text"}, True),
        ({"source": "en", "target": "fr"}, True),  # LibreTranslate's, missing q
        ({"api_key": "k"}, True),
        ({"text": "Hello"}, False),
        ({"text": "Hello", "target": "fr"}, False),
        ({"target": "fr"}, False),  # ours, missing text
        ({}, False),
        ([1, 2], False),
        ("q", False),
        (None, False),
    ],
)
def test_the_shape_is_told_by_its_fields(payload, libre):
    assert is_libretranslate(payload) is libre


@pytest.mark.parametrize(
    ("content_type", "json_", "form"),
    [
        (None, True, False),
        ("application/json", True, False),
        ("application/json; charset=utf-8", True, False),
        ("application/merge-patch+json", True, False),
        ("application/x-www-form-urlencoded", False, True),
        ("Application/X-WWW-Form-Urlencoded; charset=UTF-8", False, True),
        ("text/plain", False, False),
        ("multipart/form-data; boundary=x", False, False),
    ],
)
def test_content_types(content_type, json_, form):
    assert is_json(content_type) is json_
    assert is_form(content_type) is form


def test_a_form_is_read_as_libretranslate_reads_it():
    fields = parse_form(b"q=Where+is%0D%0Athe%20station%3F&source=en&target=fr&q=second")
    assert fields == {"q": "Where is\nthe station?", "source": "en", "target": "fr"}
    assert parse_form(b"q=caf%C3%A9") == {"q": "café"}


@pytest.mark.parametrize("body", [b"q=caf%E9", b"q=\xff"])
def test_a_form_that_is_not_utf8_is_refused(body):
    with pytest.raises(InvalidRequest):
        parse_form(body)


@pytest.mark.parametrize("body", [b'{"q": "caf\xe9"}', b"{", b"[" * 100_000])
def test_malformed_json_is_refused(body):
    with pytest.raises(MalformedJSON):
        parse_json(body)


def test_a_single_q():
    libre = to_request({"q": "Hello", "source": "en", "target": "fr"}, LIMITS)
    assert (libre.request.text, libre.request.target, libre.auto) == ("Hello", "fr", False)
    assert answer("Bonjour", libre, None) == {"translatedText": "Bonjour"}


def test_a_list_of_q_with_source_auto():
    libre = to_request({"q": ["Hello", "World"], "source": "auto", "target": "de"}, LIMITS)
    assert libre.request.texts == ["Hello", "World"]
    assert libre.request.source == "auto"
    detected = [Detection("en", 0.97), Detection("fr", 1.0)]
    body = answer(["Hallo", "Welt"], libre, detected)
    assert body["translatedText"] == ["Hallo", "Welt"]
    assert body["detectedLanguage"] == [
        {"confidence": 97.0, "language": "en"},
        {"confidence": 100.0, "language": "fr"},
    ]


def test_source_auto_on_one_text_and_alternatives():
    libre = to_request({"q": "Hi", "source": "auto", "target": "fr", "alternatives": "3"}, LIMITS)
    body = answer("Salut", libre, [Detection("en", 0.5)])
    assert body == {
        "translatedText": "Salut",
        "detectedLanguage": {"confidence": 50.0, "language": "en"},
        "alternatives": [],
    }


def test_any_source_code_is_passed_on_for_the_graph_to_judge():
    libre = to_request({"q": "Hola", "source": "es", "target": "fr"}, LIMITS)
    assert (libre.request.source, libre.auto) == ("es", False)


def test_detect_takes_one_q_within_the_limits():
    assert detect_request({"q": "Bonjour"}, LIMITS) == "Bonjour"
    for fields in ({}, {"q": ""}, None):
        with pytest.raises(InvalidRequest, match="missing q"):
            detect_request(fields, LIMITS)
    with pytest.raises(InvalidRequest, match="q must be a string"):
        detect_request({"q": ["a", "b"]}, LIMITS)
    with pytest.raises(PayloadTooLarge) as refused:
        detect_request({"q": "x" * 5001}, LIMITS)
    assert refused.value.message.startswith("q: 5001 characters")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "en", "target": "fr"}, "Invalid request: missing q parameter"),
        ({"q": "", "source": "en", "target": "fr"}, "Invalid request: missing q parameter"),
        ({"q": [], "source": "en", "target": "fr"}, "Invalid request: missing q parameter"),
        ({"q": "Hi", "target": "fr"}, "Invalid request: missing source parameter"),
        ({"q": "Hi", "source": "en"}, "Invalid request: missing target parameter"),
        ({"q": [1], "source": "en", "target": "fr"}, "q must be a string or a list of strings"),
        ({"q": "Hi", "source": 3, "target": "fr"}, "source must be a string"),
        (
            {"q": "Hi", "source": "en", "target": "fr", "format": "xml"},
            "xml format is not supported",
        ),
        (
            {"q": "Hi", "source": "en", "target": "fr", "format": "markdown"},
            "markdown format is not supported",
        ),
        (
            {"q": "Hi", "source": "en", "target": "fr", "alternatives": "abc"},
            "alternatives parameter is not a number",
        ),
        ({"q": "   ", "source": "en", "target": "fr"}, "q: empty or whitespace only"),
        ({"q": ["ok", "\x07"], "source": "en", "target": "fr"}, "q[1]: U+0007 at position 0"),
    ],
)
def test_bad_requests_get_libretranslates_messages(fields, message):
    with pytest.raises(InvalidRequest) as refused:
        to_request(fields, LIMITS)
    assert message in refused.value.message
    status, body, _ = error_answer(refused.value, Dialect.LIBRETRANSLATE)
    assert (status, body) == (400, {"error": refused.value.message})


def test_the_limits_hold_for_libretranslate_too():
    with pytest.raises(PayloadTooLarge) as refused:
        to_request({"q": "x" * 5001, "source": "en", "target": "fr"}, LIMITS)
    assert error_answer(refused.value, Dialect.LIBRETRANSLATE)[0] == 400
    assert refused.value.message.startswith("q: 5001 characters")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MalformedJSON("bad"), 400),
        (InvalidRequest("bad"), 400),
        (UnsupportedTarget("target 'zz' is not supported"), 400),
        (PayloadTooLarge("big"), 400),
        (Unauthorized("no key"), 403),
        (Overloaded("busy", retry_after_s=2.2), 429),
        (TemporarilyUnavailable("died", retry_after_s=1), 503),
        (TranslationFailed("model"), 500),
        (DeadlineExceeded("late"), 504),
    ],
)
def test_our_errors_in_libretranslates_statuses(error, status):
    got_status, body, headers = error_answer(error, Dialect.LIBRETRANSLATE)
    assert got_status == status
    assert set(body) == {"error"} and error.message in body["error"]
    if isinstance(error, Overloaded):
        assert body["error"].startswith("Slowdown:")
        assert headers == {"Retry-After": "3"}


def test_languages_lists_each_source_with_its_targets_then_the_targets_alone():
    assert languages(["en-fr", "en-de", "fr-en", "en-ro"]) == [
        {"code": "en", "name": "English", "targets": ["de", "fr", "ro"]},
        {"code": "fr", "name": "French", "targets": ["en"]},
        {"code": "de", "name": "German", "targets": []},
        {"code": "ro", "name": "Romanian", "targets": []},
    ]
    assert languages(["en-xx"])[1] == {"code": "xx", "name": "xx", "targets": []}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"q=Hi&source=en&target=fr&api_key=k1", "application/x-www-form-urlencoded", (True, "k1")),
        (b"q=Hi&source=en&target=fr", "application/x-www-form-urlencoded", (True, None)),
        (json.dumps({"q": "Hi", "api_key": "k2"}).encode(), "application/json", (True, "k2")),
        (json.dumps({"q": "Hi", "api_key": 7}).encode(), "application/json", (True, None)),
        (json.dumps({"text": "Hi", "api_key": "k3"}).encode(), "application/json", (False, None)),
        (b"not json", "application/json", (False, None)),
        (b"q=\xff", "application/x-www-form-urlencoded", (False, None)),
        (b"", "text/plain", (False, None)),
    ],
)
def test_the_api_key_is_found_in_a_libretranslate_body(body, content_type, expected):
    assert api_key_in(body, content_type) == expected
