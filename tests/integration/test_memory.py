"""The translation memory as shipped (configs/local.yaml): answers from it are the model's own,
it stays within its bound, and a change of what the model translates with empties it."""

import time

import pytest
import requests

from graph.deploy import deployment_of, load_config
from tests.integration.client import EVERY_PAIR, served, translate
from tests.integration.redeploy import translator_changed
from tests.integration.test_observe import scrape, total

pytestmark = pytest.mark.integration

SHIPPED = deployment_of(load_config("local"), "Translator")["user_config"]["translation_memory"]
ENGLISH = [p for p in EVERY_PAIR if p.source == "en" and p.target == "fr"]
GERMAN = [p for p in EVERY_PAIR if p.source == "de" and p.target == "en"]
# Not in the phrasebook: the model's answer is nonsense, but its own, and so must the memory's be.
UNKNOWN = ["The committee postponed its decision until the spring.", "Zebras hum quietly."]


@pytest.fixture
def memory_on(graph_config):
    with translator_changed(graph_config, translation_memory=SHIPPED):
        yield


def memory(http, base_url) -> dict:
    return http.get(f"{base_url}/info", timeout=30).json()["translation_memory"]


def answers(http, base_url, payload, **kwargs):
    response = translate(http, base_url, payload, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["translation"]


def test_answers_from_memory_are_the_models_own(http, base_url, memory_on):
    texts = [p.text for p in ENGLISH[:24]] + UNKNOWN
    before = memory(http, base_url)
    cold = answers(http, base_url, {"text": texts})
    between = memory(http, base_url)
    warm = answers(http, base_url, {"text": texts})
    after = memory(http, base_url)
    assert cold[:24] == [served(p) for p in ENGLISH[:24]]
    assert warm == cold
    assert between["misses"] - before["misses"] == len(texts)
    assert (after["hits"] - between["hits"], after["misses"]) == (len(texts), between["misses"])
    assert after["hit_ratio"] == round(after["hits"] / (after["hits"] + after["misses"]), 4)
    # Each text alone, from memory, as the model said it in a batch; and pivoted fr -> de.
    assert [answers(http, base_url, {"text": t}) for t in texts[:4]] == cold[:4]
    french = [served(p) for p in ENGLISH[:6]]
    pivot = {"text": french, "source": "fr", "target": "de"}
    assert answers(http, base_url, pivot) == answers(http, base_url, pivot)


@pytest.mark.parametrize(
    "opt_out",
    [
        {"json": {"cache": False}},
        {"headers": {"Cache-Control": "no-cache"}},
        {"headers": {"Cache-Control": "max-age=0, no-store"}},
    ],
    ids=["field", "no-cache", "no-store"],
)
def test_a_request_may_skip_the_memory(http, base_url, memory_on, opt_out):
    texts = [p.text for p in GERMAN[:5]]
    remembered = answers(http, base_url, {"text": texts, "source": "de", "target": "en"})
    before = memory(http, base_url)
    payload = {"text": texts, "source": "de", "target": "en", **opt_out.get("json", {})}
    fresh = answers(http, base_url, payload, headers=opt_out.get("headers"))
    after = memory(http, base_url)
    assert fresh == remembered == [served(p) for p in GERMAN[:5]]
    assert (after["hits"], after["misses"]) == (before["hits"], before["misses"])


def test_libretranslate_and_deepl_use_it_and_skip_it_by_header(http, base_url, memory_on):
    phrase = ENGLISH[30]
    libre = {"q": phrase.text, "source": "en", "target": "fr"}
    deepl = {"text": [phrase.text], "source_lang": "EN", "target_lang": "FR"}
    http.post(f"{base_url}/translate", json=libre, timeout=60)
    before = memory(http, base_url)
    assert http.post(f"{base_url}/translate", json=libre, timeout=60).json() == {
        "translatedText": served(phrase)
    }
    deepl_answer = http.post(f"{base_url}/v2/translate", json=deepl, timeout=60).json()
    assert deepl_answer["translations"][0]["text"] == served(phrase)
    middle = memory(http, base_url)
    assert middle["hits"] - before["hits"] == 2
    no_cache = {"Cache-Control": "no-cache"}
    http.post(f"{base_url}/translate", json=libre, headers=no_cache, timeout=60)
    http.post(f"{base_url}/v2/translate", json=deepl, headers=no_cache, timeout=60)
    assert memory(http, base_url)["hits"] == middle["hits"]


def test_the_memory_keeps_to_its_bound_least_recently_used_out(http, base_url, graph_config):
    texts = [p.text for p in ENGLISH[40:46]]
    with translator_changed(graph_config, translation_memory={"max_entries": 4}):
        for text in texts:  # one by one: the last four are the most recently used
            answers(http, base_url, {"text": text})
        held = memory(http, base_url)
        assert held["max_entries_per_model"] == 4
        assert held["entries"] <= 4 * 2  # per loaded model; two loaded at most
        answers(http, base_url, {"text": texts[-1]})
        newest = memory(http, base_url)
        assert newest["hits"] == held["hits"] + 1
        answers(http, base_url, {"text": texts[0]})  # pushed out by the four after it
        oldest = memory(http, base_url)
        assert (oldest["hits"], oldest["misses"]) == (newest["hits"], newest["misses"] + 1)


def test_a_changed_decoding_empties_the_models_memory(http, base_url, graph_config):
    texts = [p.text for p in ENGLISH[50:56]]
    with translator_changed(graph_config, translation_memory=SHIPPED):
        full = answers(http, base_url, {"text": texts})
        assert answers(http, base_url, {"text": texts}) == full
        with translator_changed(graph_config, decoding={"max_new_tokens": 3}):
            before = memory(http, base_url)
            short = answers(http, base_url, {"text": texts})
            after = memory(http, base_url)
            fresh = answers(http, base_url, {"text": texts, "cache": False})
        assert short == fresh and short != full
        assert (after["hits"], after["misses"]) == (before["hits"], before["misses"] + 6)


def test_lookups_and_entries_reach_prometheus(http, base_url, metrics_url, memory_on):
    before = scrape(metrics_url)
    texts = [p.text for p in ENGLISH[60:63]]
    answers(http, base_url, {"text": texts})
    answers(http, base_url, {"text": texts})
    labels = {"deployment": "Translator", "model": "phrasebook-t5"}
    deadline = time.monotonic() + 60
    while True:
        after = scrape(metrics_url)
        hits = total(after, "ray_translation_memory_lookups_total", outcome="hit", **labels)
        hits -= total(before, "ray_translation_memory_lookups_total", outcome="hit", **labels)
        entries = total(after, "ray_translation_memory_entries", **labels)
        if hits >= 3 and entries >= 3:
            break
        assert time.monotonic() < deadline, (hits, entries)
        time.sleep(2)


def test_the_handle_may_skip_it_too(graph, memory_on):
    text = ENGLISH[70].text
    assert graph.translate.remote(text).result() == served(ENGLISH[70])
    assert graph.translate.remote(text, cache=False).result() == served(ENGLISH[70])
    with pytest.raises(Exception, match="cache"):
        graph.translate.remote(text, cache="no").result()


def test_info_says_it_is_off_when_off(http, base_url):
    # The suite's own graph runs without it (tests/integration/conftest.py).
    off = requests.get(f"{base_url}/info", timeout=30).json()["translation_memory"]
    assert off["max_entries_per_model"] == 0 and off["entries"] == 0
