"""Long text is split into sentences that fit the model, never cut, and put back in place."""

import pytest

from tests.integration.client import FRENCH, SEPARABLE, served, translate

pytestmark = pytest.mark.integration


def test_enough_phrases_to_write_paragraphs():
    assert len(SEPARABLE) > 100


def test_multi_paragraph_text_comes_back_sentence_by_sentence_in_order(http, base_url):
    phrases = SEPARABLE[:60]
    paragraphs = [phrases[i : i + 6] for i in range(0, len(phrases), 6)]
    gaps = [" ", "  ", "\t"]

    def write(sentences):
        return "".join(s + gaps[n % 3] for n, s in enumerate(sentences)).rstrip()

    english = "\n\n".join(write([p.text for p in para]) for para in paragraphs) + "\n"
    french = "\n\n".join(write([served(p) for p in para]) for para in paragraphs) + "\n"
    response = translate(http, base_url, {"text": english})
    assert response.status_code == 200, response.text
    assert response.json()["translation"] == french


def test_a_text_far_longer_than_the_model_reads_is_translated_not_refused(http, base_url):
    # One "sentence" of 600 words, under the 5,000-character limit: over 512 tokens.
    words = " ".join(["station"] * 600)
    response = translate(http, base_url, {"text": [words, "Hello world!"]})
    assert response.status_code == 200, response.text
    long_translation, hello = response.json()["translation"]
    assert hello == served(next(p for p in FRENCH if p.text == "Hello world!"))
    # What the phrasebook model makes of it is nonsense; that every piece reaches the model
    # under its 512 tokens is tests/unit/test_translator_long_text.py's to show.
    assert long_translation.strip()


def test_the_texts_around_a_long_one_are_unaffected(http, base_url):
    chunk = SEPARABLE[:5]
    texts = [p.text for p in chunk] + [" ".join(p.text for p in SEPARABLE[:80])]
    response = translate(http, base_url, {"text": texts})
    assert response.status_code == 200, response.text
    translations = response.json()["translation"]
    assert translations[:5] == [served(p) for p in chunk]
    assert translations[5] == " ".join(served(p) for p in SEPARABLE[:80])
