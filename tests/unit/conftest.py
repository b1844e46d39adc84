"""Unit tests run without Ray: starting a cluster here is a bug in the test."""

import pytest
import ray


@pytest.fixture(autouse=True)
def _no_ray_cluster(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("unit tests must not start Ray; move this test to integration/")

    monkeypatch.setattr(ray, "init", refuse)
