"""The graph over real HTTP, on the phrasebook checkpoint."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from deployments.text.typography import NARROW_NBSP as N
from tests.integration.client import (
    FRENCH,
    PHRASES,
    alone_batched_concurrent,
    error_of,
    served,
    translate,
)

pytestmark = pytest.mark.integration


def test_hello_world(http, base_url):
    response = translate(http, base_url, {"text": "Hello world!"})
    assert response.status_code == 200
    assert response.json() == {"translation": f"Bonjour le monde{N}!"}


def test_typography_reaches_the_client(http, base_url):
    response = translate(http, base_url, {"text": ['He said "yes".', "Warning: the floor is wet."]})
    assert response.json()["translation"] == [
        f"Il a dit «{N}oui{N}».",
        f"Attention{N}: le sol est mouillé.",
    ]


@pytest.mark.parametrize("target", ["fr", "de"])
def test_every_phrase_exactly_and_in_order(http, base_url, target):
    phrases = [p for p in PHRASES if p.target == target]
    for chunk in (phrases[:64], phrases[64:]):  # max_texts_per_request is 64
        if not chunk:
            continue
        response = translate(http, base_url, {"text": [p.text for p in chunk], "target": target})
        assert response.status_code == 200, response.text
        assert response.json()["translation"] == [served(p) for p in chunk]


def test_a_list_keeps_its_order_whichever_way_round(http, base_url):
    chunk = FRENCH[:10]
    forward = translate(http, base_url, {"text": [p.text for p in chunk]}).json()
    backward = translate(http, base_url, {"text": [p.text for p in reversed(chunk)]}).json()
    assert forward["translation"] == [served(p) for p in chunk]
    assert backward["translation"] == forward["translation"][::-1]


def test_a_burst_of_concurrent_requests_each_gets_its_own_answer(base_url):
    """Many distinct requests batched together: no answer may go to the wrong caller."""
    requests_made = FRENCH * 2  # 256 requests over 64 connections

    def one(phrase):
        response = requests.post(f"{base_url}/translate", json={"text": phrase.text}, timeout=120)
        return phrase, response

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(one, requests_made))
    for phrase, response in results:
        assert response.status_code == 200, response.text
        assert response.json() == {"translation": served(phrase)}


def test_alone_or_batched_the_answer_is_the_same(base_url):
    texts = [
        "Hello world!",
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Ok.",
        "Where is the nearest pharmacy, and does it open on Sunday mornings?",
    ]
    alone, batched, concurrent = alone_batched_concurrent(base_url, texts, repeat=4)
    assert batched == alone
    assert concurrent == alone * 4


def test_layout_whitespace_and_line_breaks_are_kept(http, base_url):
    text = "  Good night.\n\nSee you tomorrow.  \n"
    response = translate(http, base_url, {"text": text})
    assert response.json()["translation"] == "  Bonne nuit.\n\nÀ demain.  \n"


def test_the_tutorials_client_works_unchanged(base_url):
    # model_client.py from Ray's "Develop and Deploy an ML Application", word for word.
    response = requests.post(f"{base_url}/", params={"text": "Hello world!"})
    french_text = response.json()
    assert french_text == f"Bonjour le monde{N}!"


def test_query_route_takes_a_target_too(http, base_url):
    response = http.post(f"{base_url}/", params={"text": "Hello world!", "target": "de"})
    assert response.json() == "Hallo Welt!"


@pytest.mark.parametrize(
    ("payload", "status", "code", "message"),
    [
        ({"text": ""}, 422, "invalid_request", "empty or whitespace only"),
        ({"text": "   \n "}, 422, "invalid_request", "empty or whitespace only"),
        ({"text": []}, 422, "invalid_request", "the list is empty"),
        ({"text": 42}, 422, "invalid_request", "must be a string or a list of strings"),
        ({"text": ["ok", None]}, 422, "invalid_request", "item 1 must be a string, got null"),
        ({"txt": "Hello"}, 422, "invalid_request", "text: Field required"),
        ({"text": "Hello", "target": "xx"}, 422, "unsupported_target", "supported: de, fr"),
        ({"text": "Ciao", "source": "it"}, 422, "unsupported_source", "sources: de, en, fr (or"),
        ({"text": "123", "source": "auto"}, 422, "undetectable_source", "could not be detected"),
        ({"text": "Hi", "source": 7}, 422, "invalid_request", "source: Input should be a valid"),
        ({"text": "x" * 5001}, 413, "payload_too_large", "5001 characters; the limit is 5000"),
        ({"text": ["Hi."] * 65}, 413, "payload_too_large", "65 texts in one request; the limit"),
    ],
)
def test_bad_input_gets_a_clear_json_error(http, base_url, payload, status, code, message):
    error = error_of(translate(http, base_url, payload), status)
    assert error["code"] == code
    assert message in error["message"]


def test_source_auto_says_which_language_each_text_was_taken_for(http, base_url):
    one = translate(http, base_url, {"text": "Thank you very much.", "source": "auto"}).json()
    assert one["translation"] == "Merci beaucoup."
    assert one["detected_language"]["language"] == "en"
    assert 0.5 < one["detected_language"]["confidence"] <= 1.0
    texts = ["Vielen Dank.", "Thank you very much."]
    many = translate(http, base_url, {"text": texts, "source": "auto", "target": "fr"}).json()
    assert many["translation"] == ["Merci beaucoup.", "Merci beaucoup."]
    assert [d["language"] for d in many["detected_language"]] == ["de", "en"]
    named = translate(http, base_url, {"text": "Good night.", "source": "en"}).json()
    assert named == {"translation": "Bonne nuit."}  # nothing detected, nothing to report


def test_limits_are_reported_with_the_actual_size(http, base_url):
    error = error_of(translate(http, base_url, {"text": "x" * 5001}), 413)
    assert (error["limit"], error["actual"], error["unit"]) == (5000, 5001, "characters")


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"text": "unterminated', "\xff\xfe".encode("latin-1")]
)
def test_malformed_bodies_are_refused_not_crashed_on(http, base_url, body):
    response = http.post(
        f"{base_url}/translate", data=body, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert "error" in response.json()


def test_a_bad_text_in_a_list_names_its_index(http, base_url):
    error = error_of(translate(http, base_url, {"text": ["Hello world!", "y" * 6000]}), 413)
    assert "text[1]" in error["message"]


def test_the_service_still_answers_after_all_that(http, base_url):
    test_hello_world(http, base_url)


def test_health_reports_the_model_and_targets(http, base_url):
    response = http.get(f"{base_url}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model"].endswith("phrasebook-t5")
    assert body["targets"] == ["de", "fr"]


def test_docs_and_openapi_describe_every_route(http, base_url):
    assert http.get(f"{base_url}/docs").status_code == 200
    spec = http.get(f"{base_url}/openapi.json").json()
    assert {"/translate", "/", "/health"} <= set(spec["paths"])
    assert "413" in spec["paths"]["/translate"]["post"]["responses"]
