"""One real Serve instance per session, deployed from the shipped configs/local.yaml.

The config goes to the Serve controller exactly as `serve deploy` / `serve run` send it, so the
tests exercise the file a user runs (sizing, user_config, import path), and a later deploy of a
changed user_config updates replicas in place, as it does in production.
"""

import copy
import time

import pytest
import ray
import requests
import yaml
from ray import serve
from ray.serve.context import _get_global_client
from ray.serve.schema import ApplicationStatus, ServeDeploySchema

from graph.app import APP_NAME
from tests.paths import CONFIGS

# Not 8000, so a `make run` on the same machine does not collide with the tests.
PORT = 8123


def local_config(checkpoint) -> dict:
    """configs/local.yaml with an absolute path to the checkpoint."""
    config = yaml.safe_load((CONFIGS / "local.yaml").read_text())
    config["http_options"]["port"] = PORT
    for deployment in config["applications"][0]["deployments"]:
        if deployment["name"] == "Translator":
            deployment["user_config"]["model"] = str(checkpoint)
    return config


def deployment_of(config: dict, name: str, app: str = APP_NAME) -> dict:
    (application,) = [a for a in config["applications"] if a["name"] == app]
    (deployment,) = [d for d in application["deployments"] if d["name"] == name]
    return deployment


def deploy(config: dict, wait_for: tuple[str, ...] = (APP_NAME,), timeout_s: float = 120) -> None:
    """Apply a whole Serve config (declaratively, like `serve deploy`) and wait until RUNNING."""
    _get_global_client().deploy_apps(ServeDeploySchema.model_validate(copy.deepcopy(config)))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        applications = serve.status().applications
        if all(
            name in applications and applications[name].status == ApplicationStatus.RUNNING
            for name in wait_for
        ):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{wait_for} not RUNNING after {timeout_s} s: {serve.status()}")


@pytest.fixture(scope="session")
def graph_config(phrasebook_checkpoint) -> dict:
    return local_config(phrasebook_checkpoint)


@pytest.fixture(scope="session")
def graph(graph_config):
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": PORT})
    deploy(graph_config)
    yield serve.get_app_handle(APP_NAME)
    serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="session")
def base_url(graph) -> str:
    return f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="session")
def http(base_url):
    with requests.Session() as session:
        yield session
