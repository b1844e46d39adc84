"""One real Serve instance for this package, deployed from the shipped configs/local.yaml.

The config goes to the Serve controller as `serve deploy` sends it, so the tests exercise the
file a user runs (sizing, user_config, import path). Package-scoped, so it is shut down before
tests/slow/ starts clusters of its own (one process holds one Ray connection at a time).
"""

import os

import pytest
import requests
from ray import serve

from graph.app import APP_NAME
from graph.deploy import deploy, load_config, local_serve
from tests.conftest import with_checkpoints, without_memory

# Not 8000, so a `make run` on the same machine does not collide with the tests; settable so
# two checkouts can run their suites side by side.
PORT = int(os.environ.get("TEST_SERVE_PORT", "8123"))
# Ray's Prometheus exporter for this instance (the slow tests' clusters use PORT + 50, + 51).
METRICS_PORT = int(os.environ.get("TEST_METRICS_PORT", PORT + 1))
# Checked free before the suite starts (tests/conftest.py), with HAProxy's.
RAY_PORTS = {
    PORT: "tests/integration's Serve HTTP, TEST_SERVE_PORT",
    METRICS_PORT: "tests/integration's Ray metrics, TEST_METRICS_PORT",
}


@pytest.fixture(scope="package")
def graph_config(phrasebook_checkpoints) -> dict:
    """configs/local.yaml as shipped: the three phrasebook checkpoints, at absolute paths; the
    translation memory off, since the tests send the same phrasebook sentences over and over
    and many count or time the model's work (test_memory.py turns it on as shipped)."""
    config = with_checkpoints(load_config("local", port=PORT), phrasebook_checkpoints)
    return without_memory(config)


@pytest.fixture(scope="package")
def graph(graph_config):
    # The node's metrics agent runs without the dashboard; only its port needs fixing.
    with local_serve(PORT, num_cpus=4, _metrics_export_port=METRICS_PORT):
        deploy(graph_config)
        yield serve.get_app_handle(APP_NAME)


@pytest.fixture(scope="package")
def base_url(graph) -> str:
    return f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="package")
def http(base_url):
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="package")
def metrics_url(graph) -> str:
    return f"http://127.0.0.1:{METRICS_PORT}/metrics"
