"""The phrasebook the offline test checkpoints learn by heart: one sentence a row, the same
meaning in each language of the header (``en<TAB>fr<TAB>de``), each cell as a decoder writes it
(plain ASCII punctuation, no typographic spaces: the postprocessor adds those)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PHRASEBOOK_PATH = Path(__file__).with_name("phrasebook.tsv")

# What the T5 phrasebook checkpoint learns: English into each other language.
FROM_ENGLISH = (("en", "fr"), ("en", "de"))


@dataclass(frozen=True)
class Phrase:
    """One phrasebook sentence, ``text`` in ``source``, and its ``translation`` in ``target``."""

    source: str
    target: str
    text: str
    translation: str


def load_sentences(path: Path = PHRASEBOOK_PATH) -> dict[str, list[str]]:
    """Each language's sentences, in row order, by the header's language codes."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header, *rows = (line.split("\t") for line in lines)
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}:{number}: expected {len(header)} tab-separated fields, got {len(row)}"
            )
    return {language: [row[i] for row in rows] for i, language in enumerate(header)}


def load_phrasebook(
    pairs: Iterable[tuple[str, str]] = FROM_ENGLISH, path: Path = PHRASEBOOK_PATH
) -> list[Phrase]:
    """Every sentence for each (source, target) pair, pair by pair, in row order."""
    sentences = load_sentences(path)
    return [
        Phrase(source, target, text, translation)
        for source, target in pairs
        for text, translation in zip(sentences[source], sentences[target], strict=True)
    ]
