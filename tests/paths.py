"""Where the tests find the project's files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
PHRASEBOOK_CHECKPOINT = ROOT / "build" / "phrasebook-t5"
