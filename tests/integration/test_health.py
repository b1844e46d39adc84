"""/health says 503 while the graph cannot translate, and 200 once it can."""

import time

import pytest
from ray import serve
from ray.serve.api import RunTarget

from graph.app import build_app
from tests.integration.conftest import local_config_options

pytestmark = pytest.mark.integration


def test_health_is_503_while_the_translator_is_not_up(graph, http, base_url, phrasebook_checkpoint):
    options = local_config_options(phrasebook_checkpoint)
    # More CPUs than the cluster has: the Translator stays pending, like a model still loading.
    options["Translator"]["ray_actor_options"] = {"num_cpus": 64, "num_gpus": 0}
    serve.run_many(
        [RunTarget(build_app(options), name="unready", route_prefix="/unready")],
        wait_for_applications_running=False,
    )
    try:
        deadline = time.monotonic() + 60
        response = http.get(f"{base_url}/unready/health")
        while response.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.5)
            response = http.get(f"{base_url}/unready/health")
        assert response.status_code == 503, response.text
        assert response.json()["status"] == "unavailable"
        # The healthy app beside it is unaffected.
        assert http.get(f"{base_url}/health").status_code == 200
    finally:
        serve.delete("unready")
