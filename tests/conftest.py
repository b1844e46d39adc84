"""Shared fixtures: the project's paths and the offline phrasebook checkpoint.

Every Ray cluster the tests start runs with the settings make run, make bench and the KubeRay
pods start Ray with (graph/cluster.py), so the suite exercises the mode that ships.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from graph.cluster import apply_ray_env
from tests.paths import PHRASEBOOK_CHECKPOINT, ROOT

apply_ray_env()


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
