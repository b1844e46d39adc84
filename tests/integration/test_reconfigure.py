"""A deploy that changes only user_config updates the running replicas in place."""

import copy

import pytest
import ray

from graph.app import APP_NAME
from graph.deploy import change_translator, deploy, deployment_of

pytestmark = pytest.mark.integration


def live_replicas() -> set[str]:
    """Serve names each replica actor after its unique id; a restart means a new name."""
    return {
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["name"].startswith("SERVE_REPLICA::") and f"{APP_NAME}#" in actor["name"]
    }


def test_batching_decoding_and_threads_change_without_a_restart(
    graph, graph_config, http, base_url
):
    before = live_replicas()
    assert len(before) == 3
    changed = copy.deepcopy(graph_config)
    ingress = deployment_of(changed, "TranslationIngress")["user_config"]
    ingress.update(max_batch_size=8, batch_wait_timeout_s=0.002)
    translator = deployment_of(changed, "Translator")["user_config"]
    change_translator(translator, decoding={"max_length": 40}, single_thread_max_texts=0)
    translator["batching"] = {**translator["batching"], "encoder_group_size": 0}
    try:
        deploy(changed)
        info = http.get(f"{base_url}/info").json()
        assert info["batching"]["ingress"] == {"max_batch_size": 8, "batch_wait_timeout_s": 0.002}
        assert info["targets"]["fr"]["max_length"] == 40
        assert info["single_thread_max_texts"] == 0
        assert info["batching"]["translator"]["encoder_group_size"] == 0
        assert live_replicas() == before
        answer = http.post(f"{base_url}/translate", json={"text": "Yes."}).json()
        assert answer == {"translation": "Oui."}
    finally:
        deploy(graph_config)
    info = http.get(f"{base_url}/info").json()
    assert (info["batching"]["ingress"]["max_batch_size"], info["single_thread_max_texts"]) == (
        32,
        4,
    )
    assert live_replicas() == before
