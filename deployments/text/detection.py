"""Which language a text is written in, among the languages the service translates from.

``source: "auto"`` asks for this. The detector is Lingua (lingua-language-detector): its
language models ship inside the wheel, so nothing is downloaded at run time, and it is the most
accurate of the offline detectors on short texts (docs/languages.md has the comparison).
Codes in and out are ISO 639-1 (``"en"``, ``"fr"``, ``"de"``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import lingua

# Every language Lingua has a model for, as ISO 639-1 codes.
SUPPORTED: frozenset[str] = frozenset(
    language.iso_code_639_1.name.lower() for language in lingua.Language.all()
)

# A thousand characters tell these languages apart, and the cost grows with the length (about
# 2.5 µs a character): a 5,000-character text is judged on its beginning.
MAX_CHARACTERS = 1_000


class Detection(NamedTuple):
    language: str
    # The probability of ``language`` among the detector's languages, to two decimals.
    confidence: float


class LanguageDetector:
    """Detects among ``languages``; build it once per process, not per request: each
    language's model takes about a second to load and 35 to 65 MB of memory."""

    def __init__(self, languages: Iterable[str], *, min_confidence: float = 0.0) -> None:
        codes = tuple(sorted({code.lower() for code in languages}))
        if not codes:
            raise ValueError("a language detector needs at least one language")
        if unknown := sorted(set(codes) - SUPPORTED):
            raise ValueError(f"no detection model for {', '.join(unknown)}")
        if not 0.0 <= min_confidence < 1.0:
            raise ValueError(f"min_confidence must be in [0, 1), not {min_confidence}")
        self.languages = codes
        # No floor by default: on the phrasebook, wrong guesses (confidence 0.38 to 0.64)
        # overlap right ones (down to 0.35), so a floor would drop about as many right answers.
        self.min_confidence = min_confidence
        # With one language there is nothing to choose, and Lingua built for one language
        # answers 0 for plain English such as "Good day": no model, any letter will do.
        self._lingua = _lingua_detector(codes) if len(codes) > 1 else None

    def detect(self, texts: Sequence[str]) -> list[Detection | None]:
        """One detection per text; None for a text with no letter of any of the languages'
        alphabets (empty, digits, punctuation, emoji, another script) or below the floor
        (with a single language: with no letter at all)."""
        return [self._detect_one(text) for text in texts]

    def _detect_one(self, text: str) -> Detection | None:
        if self._lingua is None:
            return Detection(self.languages[0], 1.0) if any(c.isalpha() for c in text) else None
        # One text at a time: the parallel variant starts a thread per core, which competes
        # with the model's threads for nothing (no faster on 2 cores).
        values = self._lingua.compute_language_confidence_values(text[:MAX_CHARACTERS])
        best = values[0]
        # Lingua gives every language 0 when the text has nothing it can judge.
        if best.value <= 0.0 or best.value < self.min_confidence:
            return None
        return Detection(best.language.iso_code_639_1.name.lower(), round(best.value, 2))


@functools.cache
def _lingua_detector(codes: tuple[str, ...]) -> lingua.LanguageDetector:
    # Cached by language set; Lingua also shares each language's model between detectors, so a
    # new set whose languages are already loaded builds at once.
    iso_codes = [lingua.IsoCode639_1.from_str(code) for code in codes]
    return (
        lingua.LanguageDetectorBuilder.from_iso_codes_639_1(*iso_codes)
        .with_preloaded_language_models()  # load now, not during the first request
        .build()
    )
