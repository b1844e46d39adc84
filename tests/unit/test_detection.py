"""Language detection for ``source: "auto"``: the phrasebook bar, subsets, undetectable texts."""

import re

import pytest

from checkpoints.phrasebook import load_sentences
from deployments.text.detection import (
    MAX_CHARACTERS,
    SUPPORTED,
    Detection,
    LanguageDetector,
)

LANGUAGES = ("en", "fr", "de")
BAR = 0.95

# Written for this test, none of them in the phrasebook.
SENTENCES = {
    "en": [
        "The meeting starts at nine tomorrow morning.",
        "Could you send me the report before Friday?",
        "My flight was delayed by two hours.",
        "Please restart the server after the update.",
        "She bought a new bicycle last week.",
        "We are running out of coffee.",
        "Is the museum open on Sundays?",
        "Angela Merkel visited Paris in June.",
    ],
    "fr": [
        "La réunion commence demain à neuf heures.",
        "Pourriez-vous m'envoyer le rapport avant vendredi ?",
        "Mon vol a été retardé de deux heures.",
        "Veuillez redémarrer le serveur après la mise à jour.",
        "Elle a acheté un nouveau vélo la semaine dernière.",
        "Nous n'avons presque plus de café.",
        "Le musée est-il ouvert le dimanche ?",
        "Angela Merkel a visité Paris en juin.",
    ],
    "de": [
        "Die Besprechung beginnt morgen um neun Uhr.",
        "Könnten Sie mir den Bericht vor Freitag schicken?",
        "Mein Flug hatte zwei Stunden Verspätung.",
        "Bitte starten Sie den Server nach dem Update neu.",
        "Sie hat letzte Woche ein neues Fahrrad gekauft.",
        "Uns geht der Kaffee aus.",
        "Hat das Museum sonntags geöffnet?",
        "Angela Merkel besuchte Paris im Juni.",
    ],
}

# Nothing in them is a letter of the Latin alphabet these languages are written in.
UNDETECTABLE = ["", "   ", "\n", "12345", "3.14 + 2 = 5.14", "!!!", "🙂🙂", "Привет, как дела?"]


def phrasebook() -> dict[str, list[str]]:
    return load_sentences()


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_phrasebook_sentences_of_four_words_or_more_meet_the_bar(detector, language):
    sentences = [s for s in phrasebook()[language] if len(s.split()) >= 4]
    assert len(sentences) >= 40, "too few sentences for a 95% bar to mean anything"
    found = [d and d.language for d in detector.detect(sentences)]
    wrong = [(s, f) for s, f in zip(sentences, found, strict=True) if f != language]
    accuracy = 1 - len(wrong) / len(sentences)
    assert accuracy >= BAR, f"{language}: {accuracy:.1%} of {len(sentences)}; wrong: {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_sentences_outside_the_phrasebook_are_detected(detector, language):
    assert not set(SENTENCES[language]) & set(phrasebook()[language])
    languages = [d and d.language for d in detector.detect(SENTENCES[language])]
    assert languages == [language] * len(SENTENCES[language])


def test_every_text_gets_an_iso_639_1_code_and_a_rounded_confidence(detector):
    texts = [s for sentences in phrasebook().values() for s in sentences]
    detections = detector.detect(texts)
    assert len(detections) == len(texts)
    for detection in detections:
        assert isinstance(detection, Detection)
        assert re.fullmatch("[a-z]{2}", detection.language)
        assert detection.language in LANGUAGES
        assert 0 < detection.confidence <= 1
        assert detection.confidence == round(detection.confidence, 2)
    # The shape the HTTP API answers with.
    assert detector.detect(["Bonjour tout le monde, comment allez-vous ?"])[0]._asdict() == {
        "language": "fr",
        "confidence": pytest.approx(1, abs=0.1),
    }


def test_only_the_given_languages_are_answered():
    detector = LanguageDetector(["EN", "fr"])
    assert detector.languages == ("en", "fr")
    german = [d and d.language for d in detector.detect(SENTENCES["de"])]
    assert set(german) <= {"en", "fr", None}
    assert [d and d.language for d in detector.detect(SENTENCES["fr"])] == ["fr"] * 8


def test_a_single_language_is_the_answer_for_any_text_with_a_letter():
    detector = LanguageDetector(["en"])
    assert detector._lingua is None
    assert detector.detect(["Good day", "Guten Tag", "x"]) == [Detection("en", 1.0)] * 3
    assert detector.detect(["42", "", " !"]) == [None] * 3


@pytest.mark.parametrize("text", UNDETECTABLE)
def test_a_text_without_letters_of_the_languages_is_undetectable(detector, text):
    assert detector.detect([text]) == [None]


def test_a_confidence_floor_turns_doubtful_answers_into_none():
    strict = LanguageDetector(LANGUAGES, min_confidence=0.9)
    # A name alone could be any of the three; a full sentence is not in doubt.
    doubtful, sure = strict.detect(["Paris", SENTENCES["de"][0]])
    assert doubtful is None
    assert sure is not None and sure.language == "de"


def test_a_long_text_is_judged_on_its_beginning(detector):
    english = " ".join(SENTENCES["en"])
    text = english * (MAX_CHARACTERS // len(english) + 1) + " ".join(SENTENCES["fr"]) * 50
    assert [d and d.language for d in detector.detect([text])] == ["en"]


def test_the_same_language_set_reuses_its_models(detector):
    assert LanguageDetector(["fr", "de", "en", "fr"])._lingua is detector._lingua


def test_unknown_or_missing_languages_are_refused():
    assert {"en", "fr", "de", "ro"} <= SUPPORTED
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(["en", "xx"])
    with pytest.raises(ValueError, match="at least one"):
        LanguageDetector([])
    with pytest.raises(ValueError, match="min_confidence"):
        LanguageDetector(["en"], min_confidence=1.0)
