"""Isolation where the model fails: a text the model raises on fails alone, inside a batch."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.fixtures.engines import MARKER, NAME
from tests.integration.client import FRENCH, error_of, served, translate
from tests.integration.redeploy import translator_changed

pytestmark = pytest.mark.integration

FAILING_ENGINE = "tests.fixtures.engines:failing_on_marker"


def test_the_text_the_model_fails_on_fails_alone_and_its_batch_neighbours_are_exact(
    graph, graph_config, http, base_url
):
    strangers = FRENCH[:12]
    with translator_changed(graph_config, engine=FAILING_ENGINE):
        info = http.get(f"{base_url}/info", timeout=30).json()
        before = info["served"]["model_calls"], info["served"]["texts"]
        with ThreadPoolExecutor(max_workers=len(strangers) + 2) as pool:
            marked = pool.submit(translate, requests, base_url, {"text": f"{MARKER}."})
            answers = list(
                pool.map(lambda p: translate(requests, base_url, {"text": p.text}), strangers)
            )
            in_a_list = pool.submit(
                translate, requests, base_url, {"text": ["Good night.", MARKER, "Yes."]}
            ).result()
            marked_response = marked.result()
        after = http.get(f"{base_url}/info", timeout=30).json()["served"]
    assert info["engine"] == NAME  # the configured engine is the one that ran
    for phrase, response in zip(strangers, answers, strict=True):
        assert response.status_code == 200, response.text
        assert response.json() == {"translation": served(phrase)}
    assert error_of(marked_response, 500)["code"] == "translation_failed"
    error = error_of(in_a_list, 500)
    assert error["code"] == "translation_failed" and error["index"] == 1
    # the strangers shared model calls with the marked text (fewer calls than texts)
    calls, texts = after["model_calls"] - before[0], after["texts"] - before[1]
    assert texts >= len(strangers) + 4 and calls < texts
