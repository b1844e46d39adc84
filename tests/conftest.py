"""Shared fixtures: the project's paths and the offline phrasebook checkpoint."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import PHRASEBOOK_CHECKPOINT, ROOT


@pytest.fixture(scope="session")
def phrasebook_checkpoint() -> Path:
    """The checkpoint `make test` builds; built here too when pytest runs on its own."""
    if not (PHRASEBOOK_CHECKPOINT / "model.safetensors").exists():
        subprocess.run(
            [sys.executable, "-m", "checkpoints.build_phrasebook", str(PHRASEBOOK_CHECKPOINT)],
            cwd=ROOT,
            check=True,
        )
    return PHRASEBOOK_CHECKPOINT
