"""configs/cpu-fast.yaml's Translator on the running graph: the engine changes in place.

The session's graph runs configs/local.yaml (torch). Deploying cpu-fast.yaml's Translator
settings changes only user_config, so the running replica reloads its model on ctranslate2 int8
without a restart; the phrasebook must come back exactly over real HTTP, then torch again.
"""

import copy

import pytest
import yaml

from checkpoints.phrasebook import load_phrasebook
from graph.deploy import CONFIGS, deploy, deployment_of
from tests.integration.test_http import served, translate
from tests.integration.test_reconfigure import live_replicas

pytestmark = pytest.mark.integration

PHRASES = load_phrasebook()


def cpu_fast_translator_settings(model: str) -> dict:
    config = yaml.safe_load((CONFIGS / "cpu-fast.yaml").read_text())
    settings = deployment_of(config, "Translator")["user_config"]
    return {**settings, "model": model}


def test_cpu_fast_translator_reloads_in_place_and_keeps_the_phrasebook(
    graph, graph_config, http, base_url
):
    before = live_replicas()
    assert http.get(f"{base_url}/info").json()["engine"] == "torch"
    local = deployment_of(graph_config, "Translator")["user_config"]
    fast = copy.deepcopy(graph_config)
    deployment_of(fast, "Translator")["user_config"] = cpu_fast_translator_settings(local["model"])
    try:
        deploy(fast)
        info = http.get(f"{base_url}/info").json()
        assert (info["engine"], info["compute_type"]) == ("ctranslate2", "int8")
        assert info["model"] == local["model"]
        assert live_replicas() == before
        for target in ("fr", "de"):
            phrases = [p for p in PHRASES if p.target == target]
            for chunk in (phrases[:64], phrases[64:]):
                if not chunk:
                    continue
                payload = {"text": [p.text for p in chunk], "target": target}
                response = translate(http, base_url, payload)
                assert response.status_code == 200, response.text
                assert response.json()["translation"] == [served(p) for p in chunk]
    finally:
        deploy(graph_config)
    info = http.get(f"{base_url}/info").json()
    assert (info["engine"], info["compute_type"]) == ("torch", None)
    assert live_replicas() == before
