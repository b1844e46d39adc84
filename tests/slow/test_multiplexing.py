"""Two Translator replicas holding one model each: Serve's multiplexed routing sends each
model's requests to the replica that holds it, so cycling pairs reloads nothing."""

import time

import pytest
import requests

from checkpoints.phrasebook import load_phrasebook
from graph.deploy import deploy, deployment_of
from tests.slow.conftest import MODEL_NODE, SLOW_PORT, served, start_serve, two_tier_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PORT = SLOW_PORT + 3
FRENCH = load_phrasebook(pairs=[("en", "fr")])[:8]
ENGLISH = load_phrasebook(pairs=[("fr", "en")])[:8]


@pytest.fixture(scope="module")
def cluster():
    with two_tier_cluster(model_nodes=1, model_node_units=2) as (cluster, (worker,)):
        yield cluster, worker


@pytest.fixture(scope="module")
def base_url(cluster, multi_model_config) -> str:
    config = multi_model_config(PORT)
    translator = deployment_of(config, "Translator")
    translator["num_replicas"] = 2
    translator["ray_actor_options"] = {"num_cpus": 1, "num_gpus": 0, "resources": {MODEL_NODE: 1}}
    user_config = translator["user_config"]
    user_config["threads"] = 1
    user_config["max_models_per_replica"] = 1  # a replica holds one model: a miss evicts it
    start_serve(PORT)
    deploy(config, timeout_s=300)
    return f"http://127.0.0.1:{PORT}"


def translate(phrase) -> str:
    payload = {"text": phrase.text, "source": phrase.source, "target": phrase.target}
    response = requests.post(f"http://127.0.0.1:{PORT}/translate", json=payload, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["translation"]


def replicas() -> list[dict]:
    return requests.get(f"http://127.0.0.1:{PORT}/info", timeout=30).json()["replicas"]


def test_each_models_requests_go_to_the_replica_that_holds_it(base_url):
    # Both models loaded, one on each replica. Replicas report their models to Serve's
    # routers every 0.1 s, so a request sent meanwhile may still load one twice: warm up
    # until each model is held once.
    deadline = time.monotonic() + 60
    while True:
        for phrase in (FRENCH[0], ENGLISH[0]):
            translate(phrase)
        time.sleep(2)
        before = replicas()
        held = sorted(model for replica in before for model in replica["loaded"])
        if held == ["phrasebook-marian", "phrasebook-t5"] or time.monotonic() > deadline:
            break
    assert held == ["phrasebook-marian", "phrasebook-t5"], before
    loads_before = sum(replica["loads"] for replica in before)
    for french, english in zip(FRENCH, ENGLISH, strict=True):
        assert translate(french) == served(french)
        assert translate(english) == served(english)
    after = replicas()
    # Sixteen requests alternating between the two models, and not one load: each went to
    # the replica holding its model (any other would have evicted its own to load it).
    assert sum(replica["loads"] for replica in after) == loads_before, (before, after)
    assert len(after) == 2
