"""The Ray cluster settings make run and make bench start Ray with."""

import os

from graph.cluster import RAY_ENV, apply_ray_env

# Ray reads its settings from RAY_<name as in its config>, lower case included.
NICENESS = "RAY_worker_niceness"


def test_replicas_run_at_the_daemons_priority(monkeypatch):
    monkeypatch.delenv(NICENESS, raising=False)
    apply_ray_env()
    assert os.environ.get(NICENESS) == "0"
    assert RAY_ENV == {NICENESS: "0"}


def test_a_value_already_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv(NICENESS, "5")
    apply_ray_env()
    assert os.environ.get(NICENESS) == "5"
