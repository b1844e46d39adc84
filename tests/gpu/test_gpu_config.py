"""configs/gpu.yaml as shipped (Translator on CUDA in float16), on the phrasebook checkpoint.

Skipped where torch sees no GPU (CI, the 2-core machines); run on a GPU machine with
``pytest tests/gpu``. Module-scoped, so its Ray is gone before tests/integration starts its own
(one process holds one Ray connection at a time).
"""

import os

import pytest
import requests
import torch
from ray import serve

from graph.app import APP_NAME
from graph.deploy import deploy, load_config, local_serve
from tests.integration.client import FRENCH, alone_batched_concurrent, served, translate

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

PORT = int(os.environ.get("TEST_SERVE_PORT", "8123")) + 60


@pytest.fixture(scope="module")
def gpu_graph(phrasebook_checkpoint):
    with local_serve(PORT):
        config = load_config(
            "gpu", model=str(phrasebook_checkpoint), port=PORT, first_model_only=True
        )
        deploy(config)
        yield serve.get_app_handle(APP_NAME)


@pytest.fixture(scope="module")
def base_url(gpu_graph) -> str:
    return f"http://127.0.0.1:{PORT}"


def test_the_translator_runs_on_cuda_in_float16(base_url):
    info = requests.get(f"{base_url}/info", timeout=30).json()
    assert info["device"].startswith("cuda")
    assert (info["engine"], info["dtype"]) == ("torch", "float16")


def test_every_french_phrase_comes_back_as_the_phrasebook_has_it(base_url):
    for chunk in (FRENCH[:64], FRENCH[64:]):
        if not chunk:
            continue
        response = translate(requests, base_url, {"text": [p.text for p in chunk]})
        assert response.status_code == 200, response.text
        assert response.json()["translation"] == [served(p) for p in chunk]


def test_alone_batched_or_concurrent_the_answer_is_the_same(base_url):
    texts = [p.text for p in FRENCH[:16]]
    alone, batched, concurrent = alone_batched_concurrent(base_url, texts, repeat=2)
    assert batched == alone
    assert concurrent == alone * 2


def test_a_handle_caller_gets_the_same_as_http(gpu_graph, base_url):
    texts = [p.text for p in FRENCH[:8]]
    over_http = translate(requests, base_url, {"text": texts}).json()["translation"]
    assert gpu_graph.translate.remote(texts).result() == over_http


def test_the_model_time_header_is_there(base_url):
    response = translate(requests, base_url, {"text": "Hello world!"})
    assert response.status_code == 200, response.text
    assert float(response.headers["X-Model-Time-Ms"]) > 0
