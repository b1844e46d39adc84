"""Batching proven on the running graph: concurrent requests share model calls, and every
answer is the one a lone request gets."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.client import FRENCH, translate

pytestmark = pytest.mark.integration

CLIENTS = 32


def test_32_concurrent_clients_share_model_calls_and_get_the_lone_answers(http, base_url):
    phrases = [p.text for p in FRENCH[:CLIENTS]]
    lone = {t: translate(http, base_url, {"text": t}).json()["translation"] for t in phrases}
    before = http.get(f"{base_url}/info", timeout=30).json()["served"]
    rounds = 3
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        responses = list(
            pool.map(lambda t: translate(requests, base_url, {"text": t}), phrases * rounds)
        )
    after = http.get(f"{base_url}/info", timeout=30).json()["served"]
    for text, response in zip(phrases * rounds, responses, strict=True):
        assert response.status_code == 200, response.text
        assert response.json()["translation"] == lone[text]
    calls = after["model_calls"] - before["model_calls"]
    texts = after["texts"] - before["texts"]
    assert texts == CLIENTS * rounds
    logging.getLogger(__name__).info("%d texts in %d model calls", texts, calls)
    assert texts / calls > 1
