"""Shared fixtures: the project's paths and the offline phrasebook checkpoints.

Every Ray cluster the tests start runs with the settings make run, make bench and the KubeRay
pods start Ray with (graph/cluster.py), so the suite exercises the mode that ships.
"""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from graph.cluster import apply_ray_env
from graph.ports import haproxy_ports, taken_ports
from tests.paths import (
    M2M100_PHRASEBOOK_CHECKPOINT,
    MARIAN_PHRASEBOOK_CHECKPOINT,
    PHRASEBOOK_CHECKPOINT,
    ROOT,
)

apply_ray_env()

NEEDS_RAY = ("integration", "slow")


def ray_ports(items: list[pytest.Item]) -> dict[int, str]:
    """The ports the selected tests' Ray clusters listen on: HAProxy's, and what each test
    module (``RAY_PORTS``, else ``PORT``) or its package's conftest (``RAY_PORTS``) declares."""
    needed: dict[int, str] = {}
    modules = {item.module for item in items if isinstance(item, pytest.Function)}
    for module in modules:
        conftest = sys.modules.get(f"{module.__name__.rpartition('.')[0]}.conftest")
        declared = dict(getattr(conftest, "RAY_PORTS", {}))
        if hasattr(module, "RAY_PORTS"):
            declared.update(module.RAY_PORTS)
        elif hasattr(module, "PORT"):
            declared[module.PORT] = f"{module.__name__}'s Serve HTTP"
        needed.update(declared)
    if needed:
        needed.update(haproxy_ports(os.environ))
    return needed


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop at once, naming the holder, when a port the selected Ray tests need is taken:
    otherwise each of their tests errors, far from the cause."""
    if session.config.option.collectonly:
        return
    items = [i for i in session.items if any(i.get_closest_marker(m) for m in NEEDS_RAY)]
    taken = taken_ports(ray_ports(items))
    if taken:
        pytest.exit(
            "a port the Ray tests need is taken:\n  "
            + "\n  ".join(taken)
            + "\nstop that process, or move the tests (TEST_SERVE_PORT, TEST_METRICS_PORT,"
            " TEST_STOP_SERVE_PORT, RAY_SERVE_HAPROXY_STATS_PORT, RAY_SERVE_HAPROXY_METRICS_PORT)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def _built(checkpoint: Path) -> Path:
    """A checkpoint `make test` builds; built here too when pytest runs on its own."""
    if not (checkpoint / "model.safetensors").exists():
        subprocess.run(
            [sys.executable, "-m", "checkpoints.build_phrasebook", str(checkpoint)],
            cwd=ROOT,
            check=True,
        )
    return checkpoint


@pytest.fixture(scope="session")
def phrasebook_checkpoint() -> Path:
    """The T5 phrasebook checkpoint: en -> fr, en -> de."""
    return _built(PHRASEBOOK_CHECKPOINT)


@pytest.fixture(scope="session")
def marian_phrasebook_checkpoint() -> Path:
    """The Marian phrasebook checkpoint: fr -> en."""
    return _built(MARIAN_PHRASEBOOK_CHECKPOINT)


@pytest.fixture(scope="session")
def m2m100_phrasebook_checkpoint() -> Path:
    """The M2M100-style phrasebook checkpoint: de -> en, de -> fr."""
    return _built(M2M100_PHRASEBOOK_CHECKPOINT)


@pytest.fixture(scope="session")
def phrasebook_checkpoints(
    phrasebook_checkpoint: Path,
    marian_phrasebook_checkpoint: Path,
    m2m100_phrasebook_checkpoint: Path,
) -> dict[str, Path]:
    """Every phrasebook checkpoint by its model id in configs/local.yaml."""
    return {
        "phrasebook-t5": phrasebook_checkpoint,
        "phrasebook-marian": marian_phrasebook_checkpoint,
        "phrasebook-m2m100": m2m100_phrasebook_checkpoint,
    }


def with_checkpoints(config: dict, checkpoints: Mapping[str, Path]) -> dict:
    """``config`` (changed in place) with each Translator model whose id ``checkpoints`` names
    loaded from that folder: an absolute path, whatever directory Serve resolves paths from."""
    # Imported here: graph.deploy brings in Ray, which the unit tests never need.
    from graph.deploy import deployment_of

    user_config = deployment_of(config, "Translator")["user_config"]
    for model in user_config.get("models", []):
        if model.get("id") in checkpoints:
            model["model"] = str(checkpoints[model["id"]])
    return config


def without_memory(config: dict) -> dict:
    """``config`` (changed in place) with the Translator's translation memory off: for tests
    that count or time what the model does with texts other tests have sent before."""
    from graph.deploy import deployment_of

    deployment_of(config, "Translator")["user_config"]["translation_memory"] = {"max_entries": 0}
    return config
