"""`serve deploy` of a changed user_config under steady load: no request dropped or wrong, the
new settings in effect, no replica restarted; then back again, under the same load."""

import copy
import time

import pytest
import ray
import requests

from graph.deploy import deploy, deployment_of, replicas
from tests.slow.conftest import (
    FRENCH,
    SLOW_PORT,
    SteadyLoad,
    no_ray_yet,
    start_serve,
    stop_serve,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PORT = SLOW_PORT + 1
# With 2 beams the phrasebook checkpoint misspells this one ("vétarien"); every other French
# phrase comes out the same with 1 beam or 2, so the load checks each answer exactly.
PHRASES = [p for p in FRENCH if p.text != "I am a vegetarian."][:48]
CLIENTS = 6
SETTLE_S = 6.0  # load before, between and after the deploys


@pytest.fixture(scope="module")
def graph(local_config):
    no_ray_yet()
    ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        config = local_config(PORT)
        start_serve(PORT)
        deploy(config)
        yield config
    finally:
        stop_serve()


def changed(config: dict) -> dict:
    """Batch sizes and decoding changed, nothing else: a user_config-only deploy."""
    new = copy.deepcopy(config)
    deployment_of(new, "TranslationIngress")["user_config"]["max_batch_size"] = 8
    translator = deployment_of(new, "Translator")["user_config"]
    translator["batching"] = {**translator["batching"], "max_batch_size": 16}
    translator["decoding"] = {"num_beams": 2}
    return new


def settings_in_effect(http, base_url) -> tuple[int, int, int]:
    """(ingress max_batch_size, Translator max_batch_size, num_beams for fr) as served now."""
    info = http.get(f"{base_url}/info", timeout=30).json()
    return (
        info["batching"]["ingress"]["max_batch_size"],
        info["batching"]["translator"]["max_batch_size"],
        info["targets"]["fr"]["num_beams"],
    )


def wait_for_settings(http, base_url, expected, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while (now := settings_in_effect(http, base_url)) != expected:
        assert time.monotonic() < deadline, f"settings {now}, expected {expected}"
        time.sleep(0.2)


def replica_identities() -> dict[str, set[tuple[str, float]]]:
    return {
        name: {(r.replica_id, r.start_time_s) for r in found} for name, found in replicas().items()
    }


def translator_replaced(before) -> bool:
    """A new Translator replica is up and the old one gone."""
    now = replica_identities()["Translator"]
    return len(now) == 1 and now.isdisjoint(before["Translator"])


def test_a_user_config_deploy_under_load_drops_nothing(graph):
    base_url = f"http://127.0.0.1:{PORT}"
    http = requests.Session()
    original = graph
    wait_for_settings(http, base_url, (32, 32, 1))
    before = replica_identities()
    assert all(len(ids) == 1 for ids in before.values()), before

    with SteadyLoad(base_url, PHRASES, clients=CLIENTS) as load:
        time.sleep(SETTLE_S)
        first_start = time.monotonic()
        deploy(changed(original))
        wait_for_settings(http, base_url, (8, 16, 2))
        first_end = time.monotonic()
        time.sleep(SETTLE_S)
        second_start = time.monotonic()
        deploy(original)
        wait_for_settings(http, base_url, (32, 32, 1))
        second_end = time.monotonic()
        time.sleep(SETTLE_S)

    failures = load.failures()
    assert failures == [], f"{len(failures)} of {len(load.outcomes)} failed: {failures[:5]}"
    # The load really was there, and in flight while each deploy was being applied.
    assert len(load.outcomes) >= 50, len(load.outcomes)
    assert len(load.during(first_start, first_end)) >= CLIENTS
    assert len(load.during(second_start, second_end)) >= CLIENTS
    # Applied in place: the same replicas, started when they were before.
    assert replica_identities() == before


def test_a_deploy_that_replaces_the_translator_under_load_drops_nothing_either(graph):
    # Not a user_config change: new ray_actor_options make a new replica version, so Serve
    # replaces the Translator's replica. Requests wait (seconds here: the new one loads and warms
    # up the model first) but none fails; the other deployments are left alone.
    base_url = f"http://127.0.0.1:{PORT}"
    before = replica_identities()
    resized = copy.deepcopy(graph)
    deployment_of(resized, "Translator")["ray_actor_options"]["num_cpus"] = 0.9
    with SteadyLoad(base_url, PHRASES, clients=CLIENTS) as load:
        time.sleep(SETTLE_S)
        deploy(resized)
        deadline = time.monotonic() + 120
        while not translator_replaced(before):
            assert time.monotonic() < deadline, replica_identities()
            time.sleep(0.2)
        time.sleep(SETTLE_S)

    failures = load.failures()
    assert failures == [], f"{len(failures)} of {len(load.outcomes)} failed: {failures[:5]}"
    assert len(load.outcomes) >= 50, len(load.outcomes)
    after = replica_identities()
    assert after["Translator"].isdisjoint(before["Translator"])
    assert {k: v for k, v in after.items() if k != "Translator"} == {
        k: v for k, v in before.items() if k != "Translator"
    }
