"""The phrasebook's shape: what the checkpoints learn and the tests expect back exactly."""

import string

import pytest

from checkpoints.phrasebook import PHRASEBOOK_PATH, load_phrasebook, load_sentences

LANGUAGES = ["en", "fr", "de"]
# The postprocessor makes typography; a cell is what a decoder writes.
TYPOGRAPHIC = set("“”‘’«»\u00a0\u202f\u2009")


def normalized(sentence: str) -> str:
    return sentence.lower().rstrip(string.punctuation + " ")


def test_a_header_of_languages_and_a_hundred_sentences_in_each():
    assert PHRASEBOOK_PATH.read_text("utf-8").splitlines()[0] == "\t".join(LANGUAGES)
    sentences = load_sentences()
    assert list(sentences) == LANGUAGES
    assert all(len(column) >= 100 for column in sentences.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_column_translates_back_unambiguously(language):
    column = load_sentences()[language]
    assert len(set(column)) == len(column)
    assert len({normalized(s) for s in column}) == len(column)


@pytest.mark.parametrize("language", LANGUAGES)
def test_cells_are_what_a_decoder_writes(language):
    for sentence in load_sentences()[language]:
        assert sentence and sentence.strip() == sentence, repr(sentence)
        assert not TYPOGRAPHIC & set(sentence), repr(sentence)


def test_phrases_pair_each_row_with_itself_in_the_target_language():
    sentences = load_sentences()
    phrases = load_phrasebook([("de", "fr")])
    assert len(phrases) == len(sentences["de"])
    for row, phrase in enumerate(phrases):
        assert (phrase.source, phrase.target) == ("de", "fr")
        assert (phrase.text, phrase.translation) == (sentences["de"][row], sentences["fr"][row])


def test_a_row_with_a_missing_cell_is_refused(tmp_path):
    broken = tmp_path / "phrasebook.tsv"
    broken.write_text("en\tfr\tde\nHello.\tBonjour.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":2: expected 3"):
        load_sentences(broken)
