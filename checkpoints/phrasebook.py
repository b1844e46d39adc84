"""The English phrasebook the offline test checkpoint learns by heart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PHRASEBOOK_PATH = Path(__file__).with_name("phrasebook.tsv")


@dataclass(frozen=True)
class Phrase:
    target: str
    english: str
    translation: str


def load_phrasebook(path: Path = PHRASEBOOK_PATH) -> list[Phrase]:
    """Read the tab-separated phrasebook: target language, English, translation."""
    phrases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError(f"{path}:{number}: expected 3 tab-separated fields, got {len(fields)}")
        phrases.append(Phrase(*fields))
    return phrases
