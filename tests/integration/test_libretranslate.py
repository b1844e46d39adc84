"""LibreTranslate's API, with the request shapes of its documentation and its own tests, over
real HTTP: JSON and form bodies, q as a string or a list, source auto, errors as {"error"}."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from libretranslatepy import LibreTranslateAPI

from tests.integration.client import EVERY_PAIR, FRENCH, served

pytestmark = pytest.mark.integration

HELLO = FRENCH[0]


def libre(http, base_url, **kwargs):
    return http.post(f"{base_url}/translate", timeout=60, **kwargs)


def error_text(response, status) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_a_single_q_as_json(http, base_url):
    response = libre(
        http, base_url, json={"q": HELLO.text, "source": "en", "target": "fr", "format": "text"}
    )
    assert response.status_code == 200
    assert response.json() == {"translatedText": served(HELLO)}


def test_a_list_of_q_keeps_its_order(http, base_url):
    phrases = FRENCH[:5]
    response = libre(
        http, base_url, json={"q": [p.text for p in phrases], "source": "en", "target": "fr"}
    )
    assert response.json() == {"translatedText": [served(p) for p in phrases]}


def test_a_form_body(http, base_url):
    response = libre(http, base_url, data={"q": HELLO.text, "source": "en", "target": "fr"})
    assert response.json() == {"translatedText": served(HELLO)}


def test_libretranslates_own_python_client_with_the_base_url_alone(base_url):
    # LibreTranslate-py: urllib, urlencoded forms, no content type set by hand.
    client = LibreTranslateAPI(base_url)
    phrases = [p for p in EVERY_PAIR if p.source != "en" or p.target == "de"][::9]
    for phrase in phrases:
        assert client.translate(phrase.text, phrase.source, phrase.target) == served(phrase)
    assert client.detect("Vielen Dank für Ihre Hilfe.")[0]["language"] == "de"
    assert [language["code"] for language in client.languages()] == ["de", "en", "fr"]


def test_source_auto_says_what_it_took_the_text_for(http, base_url):
    one = libre(http, base_url, json={"q": HELLO.text, "source": "auto", "target": "fr"}).json()
    assert one["translatedText"] == served(HELLO)
    # LibreTranslate's confidence is a percentage.
    assert one["detectedLanguage"]["language"] == "en"
    assert 50 < one["detectedLanguage"]["confidence"] <= 100
    many = libre(http, base_url, data={"q": HELLO.text, "source": "auto", "target": "fr"})
    assert many.json()["detectedLanguage"]["language"] == "en"
    batch = libre(
        http,
        base_url,
        json={"q": ["Vielen Dank.", "Thank you very much."], "source": "auto", "target": "fr"},
    ).json()
    assert batch["translatedText"] == ["Merci beaucoup.", "Merci beaucoup."]
    assert [d["language"] for d in batch["detectedLanguage"]] == ["de", "en"]


def test_detect_answers_as_libretranslates_does(http, base_url):
    for text, language in (("Vielen Dank.", "de"), ("Merci beaucoup.", "fr"), (HELLO.text, "en")):
        for sent in ({"json": {"q": text}}, {"data": {"q": text}}):
            response = http.post(f"{base_url}/detect", timeout=30, **sent)
            (found,) = response.json()
            assert set(found) == {"confidence", "language"}, response.text
            assert found["language"] == language and 50 < found["confidence"] <= 100
    missing = http.post(f"{base_url}/detect", json={"text": "Hello"}, timeout=30)
    assert error_text(missing, 400) == "Invalid request: missing q parameter"
    digits = http.post(f"{base_url}/detect", json={"q": "12345"}, timeout=30)
    assert "could not be detected among de, en, fr" in error_text(digits, 400)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"source": "en", "target": "fr", "format": "text"},
            "Invalid request: missing q parameter",
        ),
        ({"q": [], "source": "en", "target": "fr"}, "Invalid request: missing q parameter"),
        ({"q": "Hello", "target": "fr"}, "Invalid request: missing source parameter"),
        ({"q": "Hello", "source": "en"}, "Invalid request: missing target parameter"),
        (
            {"q": "Hello", "source": "zz", "target": "fr"},
            "source 'zz' is not served; sources: de, en, fr",
        ),
        (
            {"q": "Hello", "source": "en", "target": "fr", "format": "xml"},
            "xml format is not supported",
        ),
        ({"q": "<p>Hello</b>", "source": "en", "target": "fr", "format": "html"}, "line 1"),
        (
            {"q": "x" * 5001, "source": "en", "target": "fr"},
            "q: 5001 characters; the limit is 5000",
        ),
    ],
)
@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_bad_requests_get_400_and_an_error_string(http, base_url, body, message, as_form):
    if as_form and isinstance(body.get("q"), list):
        pytest.skip("a form cannot send a list")
    response = libre(http, base_url, **({"data": body} if as_form else {"json": body}))
    assert message in error_text(response, 400)


def test_an_unknown_target_is_400_naming_it(http, base_url):
    response = libre(http, base_url, json={"q": "Hello", "source": "en", "target": "zz"})
    assert "'zz' is not supported" in error_text(response, 400)


def test_languages_lists_each_source_with_its_targets_pivoted_included(http, base_url):
    languages = http.get(f"{base_url}/languages", timeout=30).json()
    assert languages == [
        {"code": "de", "name": "German", "targets": ["en", "fr"]},
        {"code": "en", "name": "English", "targets": ["de", "fr"]},
        {"code": "fr", "name": "French", "targets": ["de", "en"]},  # de through English
    ]


def test_a_pivoted_pair_as_libretranslates_form(http, base_url):
    answer = libre(http, base_url, data={"q": "Où est la gare?", "source": "fr", "target": "de"})
    assert answer.json() == {"translatedText": "Wo ist der Bahnhof?"}


def test_a_client_that_checks_its_languages_first_works(http, base_url):
    # The npm "libretranslate" wrapper: GET /languages, check source and target, then translate.
    codes = {"auto"} | {entry["code"] for entry in http.get(f"{base_url}/languages").json()}
    assert {"en", "fr"} <= codes
    response = libre(
        http,
        base_url,
        json={"q": HELLO.text, "source": "en", "target": "fr", "format": "text", "apiKey": ""},
    )
    assert response.json()["translatedText"] == served(HELLO)


def test_answers_carry_request_ids_and_timing_headers(http, base_url):
    response = libre(
        http,
        base_url,
        json={"q": HELLO.text, "source": "en", "target": "fr"},
        headers={"X-Request-ID": "libre-1"},
    )
    assert response.headers["X-Request-ID"] == "libre-1"
    for header in ("X-Queue-Time-Ms", "X-Model-Time-Ms", "X-Total-Time-Ms", "Server-Timing"):
        assert header in response.headers


def test_overload_is_429_slowdown_with_retry_after(base_url):
    # 120 requests x 4 texts at once, far past max_pending_texts (256).
    body = {"q": [p.text for p in FRENCH[:4]], "source": "en", "target": "fr"}

    def one(_):
        return requests.post(f"{base_url}/translate", json=body, timeout=120)

    with ThreadPoolExecutor(max_workers=120) as pool:
        responses = list(pool.map(one, range(120)))
    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 429}, statuses
    assert 429 in statuses and 200 in statuses
    for r in responses:
        if r.status_code == 429:
            assert error_text(r, 429).startswith("Slowdown:")
            assert int(r.headers["Retry-After"]) >= 1
        else:
            assert r.json()["translatedText"] == [served(p) for p in FRENCH[:4]]


def test_the_openapi_document_describes_both_shapes(http, base_url):
    spec = http.get(f"{base_url}/openapi.json", timeout=30).json()
    body = spec["paths"]["/translate"]["post"]["requestBody"]["content"]
    titles = {schema["title"] for schema in body["application/json"]["schema"]["oneOf"]}
    assert titles == {"TranslateRequest", "LibreTranslateRequest"}
    assert "q" in body["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert "/languages" in spec["paths"]


def test_our_own_shape_is_unchanged_beside_it(http, base_url):
    response = http.post(f"{base_url}/translate", json={"text": HELLO.text}, timeout=60)
    assert response.json() == {"translation": served(HELLO)}
