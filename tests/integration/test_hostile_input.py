"""Odd and hostile input: each gets a translation or a clear 4xx JSON error, never a 5xx."""

import json

import pytest

from tests.integration.client import error_of, translate

pytestmark = pytest.mark.integration


def post_raw(http, base_url, body: bytes, content_type="application/json"):
    return http.post(
        f"{base_url}/translate", data=body, headers={"content-type": content_type}, timeout=60
    )


@pytest.mark.parametrize(
    "text",
    [
        "Hello 😀 world! 👋🏽",
        "مرحبا بالعالم",  # Arabic, right to left
        "שלום עולם",  # Hebrew
        "\u202eReversed\u202c text",  # bidi override characters
        "你好，世界。今天天气很好。",  # CJK, no spaces
        "こんにちは",
        "e\u0301\u0301\u0301",  # stacked combining marks
        "\u200b\u200d\ufeff zero width",
        "tab\tseparated\u00a0no-break",
        "ÆØÅ æøå ß ŀ ĳ",
        "😀" * 300,
        "\U0001f9d1\u200d\U0001f52c" * 50,
    ],
)
def test_unusual_but_real_text_is_translated(http, base_url, text):
    response = translate(http, base_url, {"text": text})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["translation"], str)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"text": "caf\xe9"}', 400, "malformed_json"),  # Latin-1, not UTF-8
        (b'{"text": "\xff\xfe\xfd"}', 400, "malformed_json"),
        (b"\x00\x01\x02", 400, "malformed_json"),
        (b'{"text": "a"} trailing', 400, "malformed_json"),
        (b"[1, 2, 3]", 422, "invalid_request"),
        (b'"just a string"', 422, "invalid_request"),
        (b"null", 422, "invalid_request"),
        (b'{"text": "\\u0000"}', 422, "invalid_request"),  # NUL
        (b'{"text": "ring \\u0007 bell"}', 422, "invalid_request"),
        (b'{"text": "lone \\ud800 surrogate"}', 422, "invalid_request"),
        (b'{"text": ["ok", "\\udfff"]}', 422, "invalid_request"),
        (b'{"text": "Hi", "target": null}', 422, "invalid_request"),
        (b'{"text": "Hi", "target": "' + b"x" * 10_000 + b'"}', 422, "unsupported_target"),
        (b'{"text": {"nested": {"deep": [1, 2]}}}', 422, "invalid_request"),
        (b'{"text": true}', 422, "invalid_request"),
        (b'{"text": 1e999}', 422, "invalid_request"),
    ],
)
def test_hostile_bodies_get_a_clear_4xx(http, base_url, body, status, code):
    error = error_of(post_raw(http, base_url, body), status)
    assert error["code"] == code
    assert error["message"]


def test_a_control_character_is_named_with_its_position(http, base_url):
    error = error_of(translate(http, base_url, {"text": "abc\x1bdef"}), 422)
    assert "U+001B at position 3" in error["message"]


def test_the_whole_request_has_a_character_limit(http, base_url):
    texts = ["word " * 999] * 11  # each under 5,000 characters, 54,945 together
    error = error_of(translate(http, base_url, {"text": texts}), 413)
    assert (error["limit"], error["unit"]) == (50_000, "characters")
    assert error["actual"] == sum(len(t) for t in texts)


def test_a_deeply_nested_body_is_refused_not_crashed_on(http, base_url):
    body = b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = post_raw(http, base_url, body)
    assert 400 <= response.status_code < 500, response.text


def test_a_form_body_is_refused_with_json(http, base_url):
    response = post_raw(http, base_url, b"text=Hello", "application/x-www-form-urlencoded")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/translate", 405, "method_not_allowed"),
        ("post", "/no/such/route", 404, "not_found"),
        ("delete", "/health", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_and_methods_answer_json(http, base_url, method, path, status, code):
    response = getattr(http, method)(f"{base_url}{path}", timeout=10)
    assert error_of(response, status)["code"] == code


def test_the_query_route_survives_odd_percent_encoding(http, base_url):
    response = http.post(f"{base_url}/?text=%FF%FE%20caf%E9", timeout=60)
    assert response.status_code in (200, 422), response.text
    json.loads(response.text)


def test_the_service_still_translates_after_all_that(http, base_url):
    response = translate(http, base_url, {"text": "Hello world!"})
    assert response.status_code == 200
