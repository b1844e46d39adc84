"""Two Ray nodes: the Translator pinned to one by a custom resource, ingress and postprocessor on
the other, and requests crossing between them (the GPU manifest's layout, on one machine)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import ray
import requests
from ray import serve

from graph.app import APP_NAME
from graph.deploy import deploy, deployment_of, replicas
from tests.slow.conftest import (
    FRENCH,
    FRONTEND,
    MODEL_NODE,
    SLOW_PORT,
    served,
    start_serve,
    two_tier_cluster,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PORT = SLOW_PORT


@pytest.fixture(scope="module")
def cluster():
    with two_tier_cluster(model_nodes=1, model_node_units=1) as (cluster, (worker,)):
        yield cluster, worker


@pytest.fixture(scope="module")
def pinned_graph(cluster, local_config):
    config = local_config(PORT)
    pins = {"Translator": MODEL_NODE, "TranslationIngress": FRONTEND, "Postprocessor": FRONTEND}
    for name, resource in pins.items():
        options = deployment_of(config, name)["ray_actor_options"]
        options["resources"] = {resource: 1}
    start_serve(PORT)
    deploy(config, timeout_s=300)
    return config


@pytest.fixture(scope="module")
def base_url(pinned_graph) -> str:
    return f"http://127.0.0.1:{PORT}"


def test_the_translator_runs_on_the_model_node_and_the_rest_on_the_head(cluster, pinned_graph):
    head, worker = cluster[0].head_node, cluster[1]
    alive = {node["NodeID"]: node["Resources"] for node in ray.nodes() if node["Alive"]}
    assert set(alive) == {head.node_id, worker.node_id}
    placed = {name: {r.node_id for r in found} for name, found in replicas().items()}
    assert placed == {
        "Translator": {worker.node_id},
        "TranslationIngress": {head.node_id},
        "Postprocessor": {head.node_id},
    }
    assert MODEL_NODE in alive[worker.node_id] and FRONTEND not in alive[worker.node_id]


def test_requests_cross_the_nodes(base_url):
    with requests.Session() as http:
        assert http.get(f"{base_url}/health", timeout=30).status_code == 200
        before = http.get(f"{base_url}/info", timeout=30).json()["served"]["texts"]
        chunk = FRENCH[:40]
        response = http.post(
            f"{base_url}/translate", json={"text": [p.text for p in chunk]}, timeout=120
        )
        assert response.status_code == 200, response.text
        assert response.json()["translation"] == [served(p) for p in chunk]

        def one(phrase):
            answer = requests.post(f"{base_url}/translate", json={"text": phrase.text}, timeout=120)
            return answer.status_code, answer.json()

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(one, FRENCH[40:72]))
        assert answers == [(200, {"translation": served(p)}) for p in FRENCH[40:72]]
        # The Translator on the other node did the work: its own count went up by every text.
        after = http.get(f"{base_url}/info", timeout=30).json()["served"]["texts"]
        assert after - before == 40 + 32


def test_a_handle_call_crosses_the_nodes(pinned_graph):
    handle = serve.get_app_handle(APP_NAME)
    assert handle.translate.remote("Where is the station?").result(timeout_s=120) == (
        served(next(p for p in FRENCH if p.text == "Where is the station?"))
    )
