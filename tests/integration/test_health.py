"""/health says 503 while the graph cannot translate, and 200 once it can."""

import copy
import time

import pytest

from graph.deploy import deploy, deployment_of

pytestmark = pytest.mark.integration


def test_health_is_503_while_the_translator_is_not_up(graph, graph_config, http, base_url):
    unready = copy.deepcopy(graph_config["applications"][0])
    unready.update(name="unready", route_prefix="/unready")
    with_unready = copy.deepcopy(graph_config)
    with_unready["applications"].append(unready)
    # More CPUs than the cluster has: the Translator stays pending, like a model still loading.
    translator = deployment_of(with_unready, "Translator", app="unready")
    translator["ray_actor_options"] = {"num_cpus": 64, "num_gpus": 0}
    deploy(with_unready)  # waits for the healthy app only
    try:
        deadline = time.monotonic() + 60
        response = http.get(f"{base_url}/unready/health")
        while response.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.5)
            response = http.get(f"{base_url}/unready/health")
        assert response.status_code == 503, response.text
        assert response.json()["status"] == "unavailable"
        info = http.get(f"{base_url}/unready/info")
        assert info.status_code == 503
        assert info.json()["error"]["code"] == "not_ready"
        # The healthy app beside it is unaffected.
        assert http.get(f"{base_url}/health").status_code == 200
    finally:
        deploy(graph_config)
