"""The README's examples, run against the integration instance (configs/local.yaml, phrasebook).

Each ``$ curl`` of a ```console block in README.md and docs/api.md is sent as curl would send it
(same method, path, headers and body, to this instance instead of localhost:8000) and its JSON
answer compared with the output printed under it; ``$ python model_client.py`` runs the
tutorial's client, with only its URL pointed here; each ``handle.translate.remote(...)`` line of
a ```python block runs through the graph's handle. An example whose answer changes fails here
(tests/readme_examples.py reads them out of the Markdown).
"""

import os
import subprocess
import sys

import deepl
import pytest

from tests.paths import ROOT
from tests.readme_examples import (
    DEEPL_CALL,
    DOCUMENTS,
    ConsoleExample,
    console_examples,
    handle_examples,
)

pytestmark = pytest.mark.integration

CONSOLE = [example for path in DOCUMENTS for example in console_examples(path)]
CURL = [example for example in CONSOLE if not example.is_model_client]
MODEL_CLIENT = [example for example in CONSOLE if example.is_model_client]
HANDLE = [example for path in DOCUMENTS for example in handle_examples(path)]
DEEPL = [example for path in DOCUMENTS for example in handle_examples(path, DEEPL_CALL)]
# What model_client.py (the tutorial's, unchanged) posts to.
MODEL_CLIENT_URL = "http://127.0.0.1:8000"


@pytest.mark.parametrize("example", CURL, ids=[e.where for e in CURL])
def test_a_curl_example_answers_what_the_docs_print(http, base_url, example: ConsoleExample):
    request = example.curl()
    response = http.request(
        request.method,
        base_url + request.path,
        headers=request.headers,
        data=request.body,
        timeout=60,
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    expected = example.expected_json()
    assert response.json() == expected, f"{example.where}: {example.command}"
    # Ours and LibreTranslate's errors have "error"; DeepL's only "message".
    is_error = isinstance(expected, dict) and ("error" in expected or set(expected) == {"message"})
    assert (response.status_code >= 400) == is_error, (response.status_code, response.text)


@pytest.mark.parametrize("example", MODEL_CLIENT, ids=[e.where for e in MODEL_CLIENT])
def test_the_tutorials_client_prints_what_the_docs_print(base_url, example: ConsoleExample):
    source = (ROOT / "model_client.py").read_text(encoding="utf-8")
    assert MODEL_CLIENT_URL in source
    run = subprocess.run(
        [sys.executable, "-c", source.replace(MODEL_CLIENT_URL, base_url)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip("\n") == example.output


@pytest.mark.parametrize("example", HANDLE, ids=[e.where for e in HANDLE])
def test_a_handle_example_returns_what_the_docs_print(graph, example):
    result = graph.translate.remote(*example.args, **example.kwargs).result()
    assert result == example.expected, example.where


@pytest.mark.parametrize("example", DEEPL, ids=[e.where for e in DEEPL])
def test_a_deepl_client_example_returns_what_the_docs_print(base_url, example):
    translator = deepl.Translator("any-key", server_url=base_url)
    result = translator.translate_text(*example.args, **example.kwargs)
    assert result.text == example.expected, example.where
