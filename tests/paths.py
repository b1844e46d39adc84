"""Where the tests find the project's files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
# The offline checkpoints `make test` builds (checkpoints/build_phrasebook.py).
PHRASEBOOK_CHECKPOINT = ROOT / "build" / "phrasebook-t5"
MARIAN_PHRASEBOOK_CHECKPOINT = ROOT / "build" / "phrasebook-marian"
M2M100_PHRASEBOOK_CHECKPOINT = ROOT / "build" / "phrasebook-m2m100"
# Beside the checkout (the repository's parent holds shared/): reference material that is not
# part of the repository. Tests that need it skip, saying so, where it is absent.
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
RAYSERVICE_CRD = SHARED_REFERENCE / "kuberay" / "ray.io_rayservices.yaml"
