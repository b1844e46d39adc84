"""One real Serve instance per session: the shipped local config, on the phrasebook checkpoint."""

import pytest
import ray
import requests
import yaml
from ray import serve

from graph.app import APP_NAME, build_app
from tests.paths import CONFIGS

# Not 8000, so a `make run` on the same machine does not collide with the tests.
PORT = 8123


def local_config_options(checkpoint) -> dict:
    """configs/local.yaml's deployment options, with an absolute path to the checkpoint."""
    config = yaml.safe_load((CONFIGS / "local.yaml").read_text())
    (application,) = config["applications"]
    options = {d.pop("name"): d for d in application["deployments"]}
    options["Translator"]["user_config"]["model"] = str(checkpoint)
    return options


@pytest.fixture(scope="session")
def graph(phrasebook_checkpoint):
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": PORT})
    serve.run(
        build_app(local_config_options(phrasebook_checkpoint)), name=APP_NAME, route_prefix="/"
    )
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
