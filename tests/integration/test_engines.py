"""configs/cpu-fast.yaml's Translator on the running graph: the engine changes in place.

The session's graph runs configs/local.yaml (torch, three model families). Deploying
cpu-fast.yaml's Translator settings changes only user_config, so the running replica reloads each
model on ctranslate2 int8 without a restart; every pair's phrasebook must come back exactly over
real HTTP, then torch again.
"""

import pytest

from graph.deploy import deploy
from tests.integration.test_languages import (
    PAIRS,
    check_pair,
    deployed_with,
    info,
    translator_config,
)
from tests.integration.test_reconfigure import live_replicas

pytestmark = pytest.mark.integration


def test_ctranslate2_serves_every_family_after_an_in_place_reload(
    graph, graph_config, phrasebook_checkpoints, http, base_url
):
    before = live_replicas()
    try:
        deployed_with(graph_config, translator_config("cpu-fast", phrasebook_checkpoints))
        engines = {
            m["family"]: (m["engine"], m["compute_type"]) for m in info(http, base_url)["models"]
        }
        assert engines == {
            family: ("ctranslate2", "int8") for family in ("t5", "marian", "m2m_100")
        }
        for pair in PAIRS:
            check_pair(http, base_url, pair)
    finally:
        deploy(graph_config)
    assert live_replicas() == before
    assert {(m["engine"], m["compute_type"]) for m in info(http, base_url)["models"]} == {
        ("torch", None)
    }
