"""DeepL's API v2, driven by DeepL's official Python client (``deepl.Translator`` pointed at the
graph with ``server_url``), and by hand for what the client does not send."""

import deepl
import pytest

from tests.integration.client import EVERY_PAIR, served
from tests.integration.redeploy import ingress_changed

pytestmark = pytest.mark.integration

ENGLISH_TO = {
    t: [p for p in EVERY_PAIR if p.source == "en" and p.target == t] for t in ("fr", "de")
}
FRENCH_TO_ENGLISH = [p for p in EVERY_PAIR if p.source == "fr" and p.target == "en"]
GERMAN_TO_FRENCH = [p for p in EVERY_PAIR if p.source == "de" and p.target == "fr"]
# Sentences long enough for detection to tell their language (docs/languages.md).
DETECTABLE = [p for p in FRENCH_TO_ENGLISH if len(p.text.split()) >= 4]


@pytest.fixture(scope="module")
def translator(base_url):
    # Any key works when the service has none configured (tests/integration/test_api_keys.py
    # has the refusals); the client insists on one.
    return deepl.Translator("any-key:fx", server_url=base_url)


def test_one_text_with_both_languages(translator):
    phrase = ENGLISH_TO["fr"][0]
    result = translator.translate_text(phrase.text, source_lang="EN", target_lang="FR")
    assert result.text == served(phrase)
    assert result.detected_source_lang == "EN"


@pytest.mark.parametrize("target", ["fr", "de"])
def test_many_texts_in_order(translator, target):
    phrases = ENGLISH_TO[target][:12]
    results = translator.translate_text(
        [p.text for p in phrases], source_lang="EN", target_lang=target.upper()
    )
    assert [r.text for r in results] == [served(p) for p in phrases]
    assert {r.detected_source_lang for r in results} == {"EN"}


def test_without_source_lang_the_source_is_detected(translator):
    phrases = DETECTABLE[:6]
    results = translator.translate_text([p.text for p in phrases], target_lang="EN-US")
    assert [r.text for r in results] == [served(p) for p in phrases]
    assert {r.detected_source_lang for r in results} == {"FR"}


def test_english_variants_and_a_pivoted_pair(translator):
    phrase = FRENCH_TO_ENGLISH[3]
    for variant in ("EN-GB", "EN-US"):
        result = translator.translate_text(phrase.text, source_lang="FR", target_lang=variant)
        assert result.text == served(phrase)
    # de -> fr is served directly; fr -> de only through English, and DeepL's clients see a
    # target like any other.
    german = GERMAN_TO_FRENCH[0]
    direct = translator.translate_text(german.text, source_lang="DE", target_lang="FR")
    assert direct.text == served(german)
    pivoted = translator.translate_text(served(german), source_lang="FR", target_lang="DE")
    assert pivoted.detected_source_lang == "FR" and pivoted.text.strip()


def test_html_through_tag_handling(translator):
    first, second = ENGLISH_TO["fr"][1:3]
    html = f'<h1 class="t">{first.text}</h1>\n<p>{second.text} <code>x &lt; y</code></p>'
    result = translator.translate_text(
        html, source_lang="EN", target_lang="FR", tag_handling="html"
    )
    assert result.text == (
        f'<h1 class="t">{served(first)}</h1>\n<p>{served(second)} <code>x &lt; y</code></p>'
    )


def test_language_lists(translator):
    sources = {language.code: language.name for language in translator.get_source_languages()}
    assert sources == {"DE": "German", "EN": "English", "FR": "French"}
    targets = {language.code: language for language in translator.get_target_languages()}
    assert set(targets) == {"DE", "FR", "EN-GB", "EN-US"}
    assert targets["EN-GB"].name == "English (British)"
    assert not any(language.supports_formality for language in targets.values())


def test_usage_counts_what_was_translated_and_has_no_limit(translator):
    before = translator.get_usage().character.count
    text = ENGLISH_TO["de"][0].text
    translator.translate_text(text, source_lang="EN", target_lang="DE")
    usage = translator.get_usage()
    # Another test's requests may land between the two reads on the same replica.
    assert usage.character.count >= before + len(text)
    assert usage.character.valid and not usage.any_limit_reached


def test_a_target_no_model_serves_is_the_clients_bad_request(translator):
    with pytest.raises(deepl.DeepLException, match="Bad request") as raised:
        translator.translate_text("Hello world!", source_lang="EN", target_lang="ES")
    assert raised.value.http_status_code == 400
    assert "en-es" in str(raised.value)


def test_a_source_no_model_serves_is_a_bad_request(translator):
    with pytest.raises(deepl.DeepLException) as raised:
        translator.translate_text("Hola.", source_lang="ES", target_lang="FR")
    assert raised.value.http_status_code == 400
    assert "'es'" in str(raised.value)


def test_formality_as_deepl_answers_for_a_language_without_it(translator):
    text = ENGLISH_TO["de"][0]
    for preference in ("prefer_more", "prefer_less", "default"):
        result = translator.translate_text(
            text.text, source_lang="EN", target_lang="DE", formality=preference
        )
        assert result.text == served(text)
    with pytest.raises(deepl.DeepLException, match="formality") as raised:
        translator.translate_text(text.text, source_lang="EN", target_lang="DE", formality="more")
    assert raised.value.http_status_code == 400


def test_options_that_change_nothing_here_are_accepted(translator):
    phrase = ENGLISH_TO["fr"][0]
    result = translator.translate_text(
        phrase.text,
        source_lang="EN",
        target_lang="FR",
        split_sentences="nonewlines",
        preserve_formatting=True,
        context="A greeting at the start of a talk.",
        model_type="prefer_quality_optimized",
    )
    assert result.text == served(phrase)


def test_overload_is_the_clients_too_many_requests(translator, graph_config, monkeypatch):
    # The client retries 429s itself (five times, backing off): once is enough to see it.
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)
    texts = [p.text for p in ENGLISH_TO["fr"][:3]]
    with (
        ingress_changed(graph_config, max_pending_texts=2),
        pytest.raises(deepl.TooManyRequestsException) as raised,
    ):
        translator.translate_text(texts, source_lang="EN", target_lang="FR")
    assert raised.value.http_status_code == 429


# --- what the client does not send -------------------------------------------------------------


def v2(http, base_url, path, **kwargs):
    return http.post(f"{base_url}/v2/{path}", timeout=60, **kwargs)


def message_of(response, status) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"}, body
    return body["message"]


def test_a_form_repeats_text_as_deepls_documentation_shows(http, base_url):
    phrases = ENGLISH_TO["fr"][:3]
    form = [("text", p.text) for p in phrases] + [("target_lang", "FR"), ("source_lang", "EN")]
    response = v2(http, base_url, "translate", data=form)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "translations": [{"detected_source_language": "EN", "text": served(p)} for p in phrases]
    }


def test_billed_characters_when_asked(http, base_url):
    phrase = ENGLISH_TO["fr"][0]
    response = v2(
        http,
        base_url,
        "translate",
        json={"text": [phrase.text], "target_lang": "FR", "show_billed_characters": True},
    )
    assert response.json()["translations"][0]["billed_characters"] == len(phrase.text)


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"target_lang": "FR"}, 400, "'text' not specified"),
        ({"text": ["Hi."]}, 400, "'target_lang' not specified"),
        ({"text": ["Hi."], "target_lang": "FR", "tag_handling": "markdown"}, 400, "tag_handling"),
        ({"text": ["Hi."], "target_lang": "FR", "split_sentences": "2"}, 400, "split_sentences"),
        ({"text": ["Hi."], "target_lang": "FR", "glossary_id": "g1"}, 400, "source_lang"),
        (
            {"text": ["Hi."], "target_lang": "FR", "source_lang": "EN", "glossary_id": "g1"},
            404,
            "Glossary not found",
        ),
        ({"text": ["x" * 5001], "target_lang": "FR"}, 413, "the limit is 5000"),
        ({"text": [" "], "target_lang": "FR"}, 400, "empty"),
        ({"text": ["<p>Hi</b>"], "target_lang": "FR", "tag_handling": "html"}, 400, "line 1"),
    ],
)
def test_errors_in_deepls_shape(http, base_url, body, status, says):
    assert says in message_of(v2(http, base_url, "translate", json=body), status)


def test_unknown_v2_routes_are_404_in_deepls_shape(http, base_url):
    for path in ("glossaries", "document", "glossary-language-pairs"):
        assert "/v2/translate" in message_of(v2(http, base_url, path, json={}), 404)
    assert http.get(f"{base_url}/v2/glossaries", timeout=30).status_code == 404


def test_languages_type_from_the_query_or_a_form(http, base_url):
    by_query = http.get(f"{base_url}/v2/languages?type=target", timeout=30).json()
    by_form = v2(http, base_url, "languages", data={"type": "target"}).json()
    assert by_query == by_form
    assert {"language": "DE", "name": "German", "supports_formality": False} in by_query
    assert "type" in message_of(http.get(f"{base_url}/v2/languages?type=both", timeout=30), 400)
