"""Resolving a request's source language: named, or detected among the served sources."""

import pytest

from deployments.core.errors import UndetectableSource, UnsupportedSource
from deployments.http.errors import Dialect, status_of
from deployments.text.sources import AUTO, resolve_sources


def test_a_named_source_applies_to_every_text():
    sources = resolve_sources("fr", ["Bonjour.", "Merci."], {"en", "fr"})
    assert sources.languages == ["fr", "fr"] and sources.detected is None


def test_a_source_no_model_serves_is_refused_naming_those_that_are():
    with pytest.raises(UnsupportedSource) as refused:
        resolve_sources("es", ["Hola."], {"en", "fr"})
    assert "'es' is not served; sources: en, fr" in refused.value.message
    assert refused.value.details["supported"] == ["en", "fr"]
    assert status_of(refused.value) == 422
    assert status_of(refused.value, Dialect.LIBRETRANSLATE) == 400


def test_auto_detects_each_text_among_the_served_sources():
    texts = [
        "Where is the train station?",
        "Je voudrais un café, s'il vous plaît.",
        "Wo ist der Bahnhof?",
    ]
    sources = resolve_sources(AUTO, texts, {"en", "fr", "de"})
    assert sources.languages == ["en", "fr", "de"]
    assert sources.detected is not None
    assert [d.language for d in sources.detected] == sources.languages
    assert all(0 < d.confidence <= 1 for d in sources.detected)


def test_auto_with_one_served_source_takes_every_text_with_letters_for_it():
    sources = resolve_sources(AUTO, ["Bonjour tout le monde."], {"en"})
    assert sources.languages == ["en"]


@pytest.mark.parametrize(
    ("texts", "where"), [(["12345"], "the text"), (["Hello there.", "!!!"], "text 1")]
)
def test_an_undetectable_text_is_refused_saying_which(texts, where):
    with pytest.raises(UndetectableSource) as refused:
        resolve_sources(AUTO, texts, {"en", "fr"})
    assert f"the language of {where} could not be detected among en, fr" in refused.value.message
    assert status_of(refused.value) == 422
