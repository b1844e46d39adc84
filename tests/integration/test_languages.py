"""Many languages on one graph (configs/local.yaml): three model families, routed by pair,
multiplexed two at a time per replica, English as the pivot, auto detection."""

import copy
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from checkpoints.phrasebook import load_phrasebook
from graph.deploy import deploy, deployment_of, load_config
from tests.conftest import with_checkpoints
from tests.integration.client import error_of, served, translate
from tests.integration.test_observe import scrape, total
from tests.integration.test_reconfigure import live_replicas

pytestmark = pytest.mark.integration

# Every pair the offline demo serves: five by a model, fr -> de through English.
DIRECT = [("en", "fr"), ("en", "de"), ("fr", "en"), ("de", "en"), ("de", "fr")]
PIVOTED = [("fr", "de")]
PAIRS = DIRECT + PIVOTED
PHRASES = {pair: load_phrasebook(pairs=[pair]) for pair in PAIRS}
# The models each pair's texts go through, by id.
MODELS = {
    ("en", "fr"): "phrasebook-t5",
    ("en", "de"): "phrasebook-t5",
    ("fr", "en"): "phrasebook-marian",
    ("de", "en"): "phrasebook-m2m100",
    ("de", "fr"): "phrasebook-m2m100",
}


def chunks(items: list, size: int = 64) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def check_pair(http, base_url, pair) -> None:
    source, target = pair
    for chunk in chunks(PHRASES[pair]):
        payload = {"text": [p.text for p in chunk], "source": source, "target": target}
        response = translate(http, base_url, payload)
        assert response.status_code == 200, response.text
        assert response.json()["translation"] == [served(p) for p in chunk], pair


def info(http, base_url) -> dict:
    response = http.get(f"{base_url}/info", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_every_phrasebook_sentence_is_answered_exactly_for_each_pair(http, base_url, pair):
    check_pair(http, base_url, pair)


def test_the_same_over_a_deployment_handle(graph):
    for (source, target), phrases in PHRASES.items():
        texts = [p.text for p in phrases[:40]]
        answer = graph.translate.remote(texts, target=target, source=source).result()
        assert answer == [served(p) for p in phrases[:40]], (source, target)


def test_texts_of_several_languages_in_one_request_are_all_answered_in_order(http, base_url):
    mixed = [phrases[i] for i in range(6) for phrases in (PHRASES["en", "de"], PHRASES["fr", "de"])]
    response = translate(
        http, base_url, {"text": [p.text for p in mixed], "source": "auto", "target": "de"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["translation"] == [served(p) for p in mixed]
    assert [d["language"] for d in body["detected_language"]] == [p.source for p in mixed]


def test_info_and_languages_say_which_pairs_are_pivoted(http, base_url):
    described = info(http, base_url)
    assert described["pivoted"] == [{"pair": "fr-de", "through": ["fr-en", "en-de"]}]
    by_id = {m["id"]: m for m in described["models"]}
    assert {model_id: m["family"] for model_id, m in by_id.items()} == {
        "phrasebook-t5": "t5",
        "phrasebook-marian": "marian",
        "phrasebook-m2m100": "m2m_100",
    }
    for pair, model_id in MODELS.items():
        assert "-".join(pair) in by_id[model_id]["pairs"]
    languages = {entry["code"]: entry for entry in http.get(f"{base_url}/languages").json()}
    assert languages["fr"]["targets"] == ["de", "en"]  # de through English
    assert languages["de"]["targets"] == ["en", "fr"]
    assert languages["en"]["targets"] == ["de", "fr"]
    assert languages["fr"]["name"] == "French"


def test_auto_detects_at_least_95_percent_of_the_longer_sentences_of_each_language(base_url):
    # Into a target every detected source can reach, so a wrong guess is seen, not refused.
    into = {"en": "fr", "fr": "en", "de": "en"}
    sentences = {
        language: [p.text for p in PHRASES[language, target] if len(p.text.split()) >= 4]
        for language, target in into.items()
    }

    def detected(language: str, text: str) -> str | None:
        payload = {"text": text, "source": "auto", "target": into[language]}
        response = translate(requests, base_url, payload)
        if response.status_code != 200:
            return None
        return response.json()["detected_language"]["language"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for language, texts in sentences.items():
            assert len(texts) >= 40, language
            found = list(pool.map(lambda text, lang=language: detected(lang, text), texts))
            rate = sum(f == language for f in found) / len(texts)
            assert rate >= 0.95, (language, rate)


def test_an_unroutable_pair_is_a_422_naming_it_and_the_pairs_served(http, base_url):
    response = translate(http, base_url, {"text": "Hallo", "source": "de", "target": "es"})
    error = error_of(response, 422)
    assert error["code"] == "unsupported_target"
    assert "de-es" in error["message"] and "fr-de" in error["message"]
    assert set(error["pairs"]) == {"-".join(pair) for pair in PAIRS}
    unknown = translate(http, base_url, {"text": "Ciao", "source": "it", "target": "en"})
    assert error_of(unknown, 422)["code"] == "unsupported_source"


def replicas_evictions(http, base_url) -> int:
    return sum(replica["evictions"] for replica in info(http, base_url)["replicas"])


def test_pairs_cycled_by_several_clients_are_all_exact_and_models_are_evicted(base_url):
    evictions_before = replicas_evictions(requests, base_url)
    cycle = [pair for pair in PAIRS for _ in range(2)]

    def client(offset: int) -> list[str]:
        wrong = []
        with requests.Session() as http:
            for step in range(len(cycle)):
                source, target = cycle[(offset + step) % len(cycle)]
                phrases = PHRASES[source, target][offset * 8 : offset * 8 + 8]
                payload = {"text": [p.text for p in phrases], "source": source, "target": target}
                response = translate(http, base_url, payload)
                expected = [served(p) for p in phrases]
                if response.status_code != 200 or response.json()["translation"] != expected:
                    wrong.append(f"{source}-{target}: {response.status_code} {response.text}")
        return wrong

    with ThreadPoolExecutor(max_workers=4) as pool:
        wrong = [w for answers in pool.map(client, range(4)) for w in answers]
    assert wrong == []
    described = info(requests, base_url)
    assert replicas_evictions(requests, base_url) > evictions_before
    for replica in described["replicas"]:
        assert len(replica["loaded"]) <= 2  # max_models_per_replica


def test_metrics_count_loads_evictions_and_load_time_per_model(http, base_url, metrics_url):
    check_pair(http, base_url, ("de", "en"))
    check_pair(http, base_url, ("fr", "en"))
    check_pair(http, base_url, ("en", "fr"))
    deadline = time.monotonic() + 30
    while True:
        samples = scrape(metrics_url)
        loaded = {
            model: total(
                samples, "ray_translation_model_loads_total", model=model, outcome="loaded"
            )
            for model in set(MODELS.values())
        }
        evicted = total(samples, "ray_translation_model_evictions_total")
        load_times = total(samples, "ray_translation_model_load_seconds_count")
        translated = total(
            samples, "ray_translation_texts_translated_total", model="phrasebook-m2m100"
        )
        if (min(loaded.values()) >= 1 and evicted >= 1 and load_times >= 3 and translated) or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(1)
    assert min(loaded.values()) >= 1, loaded
    assert evicted >= 1 and load_times >= 3 and translated >= 1


def translator_config(name: str, checkpoints) -> dict:
    """A shipped config's Translator user_config, on the built phrasebook checkpoints."""
    config = with_checkpoints(load_config(name), checkpoints)
    return deployment_of(config, "Translator")["user_config"]


def deployed_with(graph_config: dict, user_config: dict) -> dict:
    changed = copy.deepcopy(graph_config)
    deployment_of(changed, "Translator")["user_config"] = user_config
    deploy(changed)
    return changed


def test_a_model_is_added_and_removed_by_a_user_config_change_with_no_restart(
    graph, graph_config, http, base_url
):
    before = live_replicas()
    served_config = deployment_of(graph_config, "Translator")["user_config"]
    without = copy.deepcopy(served_config)
    without["models"] = [m for m in without["models"] if m["id"] != "phrasebook-m2m100"]
    try:
        deployed_with(graph_config, without)
        described = info(http, base_url)
        assert "phrasebook-m2m100" not in {m["id"] for m in described["models"]}
        assert "phrasebook-m2m100" not in described["replica"]["loaded"]
        refused = translate(http, base_url, {"text": "Guten Tag.", "source": "de", "target": "en"})
        assert error_of(refused, 422)["code"] == "unsupported_source"
        check_pair(http, base_url, ("fr", "en"))
        deploy(graph_config)  # added back
        check_pair(http, base_url, ("de", "en"))
        check_pair(http, base_url, ("de", "fr"))
    finally:
        deploy(graph_config)
    assert live_replicas() == before


def test_a_model_that_fails_to_load_fails_only_its_texts_and_is_retried(
    graph, graph_config, http, base_url, tmp_path
):
    served_config = deployment_of(graph_config, "Translator")["user_config"]
    marian = next(m for m in served_config["models"] if m["id"] == "phrasebook-marian")
    broken = tmp_path / "marian"
    shutil.copytree(marian["model"], broken)
    weights = broken / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(b"not a checkpoint")
    changed = copy.deepcopy(served_config)
    next(m for m in changed["models"] if m["id"] == "phrasebook-marian")["model"] = str(broken)
    try:
        deployed_with(graph_config, changed)
        failed = translate(http, base_url, {"text": "Merci.", "source": "fr", "target": "en"})
        error = error_of(failed, 503)
        assert error["code"] == "model_unavailable" and "phrasebook-marian" in error["message"]
        assert failed.headers["Retry-After"]
        pivoted = translate(http, base_url, {"text": "Merci.", "source": "fr", "target": "de"})
        assert error_of(pivoted, 503)["code"] == "model_unavailable"
        for pair in (("en", "fr"), ("de", "en")):
            check_pair(http, base_url, pair)
        weights.write_bytes(good)  # repaired: the next request loads it
        check_pair(http, base_url, ("fr", "en"))
    finally:
        deploy(graph_config)
