"""No silent truncation: a translation that reaches the decoding limit is translated again in
pieces, and what still cannot finish is answered flagged (JSON, header, metric)."""

import time

import pytest

from tests.integration.client import translate
from tests.integration.redeploy import translator_changed
from tests.integration.test_observe import scrape, total

pytestmark = pytest.mark.integration

# One sentence (no inner sentence end), far longer in translation than the short limits below.
# Its translation needs more than 10 tokens; each of its halves, fewer.
LONG = "I am fine, thank you."


def served(http, base_url) -> dict:
    return http.get(f"{base_url}/info", timeout=30).json()["served"]


def test_a_line_that_reaches_the_limit_is_translated_again_in_pieces(
    graph, graph_config, http, base_url
):
    # 10 tokens: "Good night." fits; the long sentence does not at once, its pieces do.
    with translator_changed(graph_config, decoding={"max_length": 10}):
        before = served(http, base_url)
        response = translate(http, base_url, {"text": ["Good night.", LONG]})
        after = served(http, base_url)
    assert response.status_code == 200
    body = response.json()
    assert body["translation"][0] == "Bonne nuit."
    assert "truncated" not in body and "X-Truncated-Texts" not in response.headers
    assert after["resplit_lines"] == before["resplit_lines"] + 1
    assert after["truncated_lines"] == before["truncated_lines"]


def test_what_cannot_finish_is_flagged_in_every_dialect_and_counted(
    graph, graph_config, http, base_url, metrics_url
):
    before = scrape(metrics_url)
    # max_length 2 leaves room for one token and no end token: nothing can finish.
    with translator_changed(graph_config, decoding={"max_length": 2}):
        ours = translate(http, base_url, {"text": "Good night."})
        listed = translate(http, base_url, {"text": ["Good night.", "Yes."]})
        libre = http.post(
            f"{base_url}/translate",
            json={"q": "Good night.", "source": "en", "target": "fr"},
            timeout=60,
        )
        tutorial = http.post(f"{base_url}/", params={"text": "Good night."}, timeout=60)
        info = served(http, base_url)
    for response in (ours, listed, libre, tutorial):
        assert response.status_code == 200, response.text
    assert ours.json()["truncated"] is True
    assert ours.headers["X-Truncated-Texts"] == "0"
    assert listed.json()["truncated"] == [True, True]
    assert listed.headers["X-Truncated-Texts"] == "0,1"
    assert libre.json()["truncated"] is True and libre.headers["X-Truncated-Texts"] == "0"
    assert tutorial.headers["X-Truncated-Texts"] == "0"
    assert info["truncated_lines"] >= 5
    labels = {"deployment": "Translator", "code": "truncated", "stage": "translator"}
    deadline = time.monotonic() + 60
    while True:  # Serve pushes metrics to the node's exporter every few seconds
        grown = total(scrape(metrics_url), "ray_translation_errors_total", **labels) - total(
            before, "ray_translation_errors_total", **labels
        )
        if grown >= 5:
            break
        assert time.monotonic() < deadline, f"truncated errors grew by {grown} in 60 s"
        time.sleep(2)


def test_with_the_shipped_limits_nothing_is_flagged(http, base_url):
    response = translate(http, base_url, {"text": [LONG, "Good night."]})
    assert response.status_code == 200
    assert "truncated" not in response.json()
    assert "X-Truncated-Texts" not in response.headers
