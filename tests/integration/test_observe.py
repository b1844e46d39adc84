"""Observing the graph: request ids through all three deployments, timing headers, the
Prometheus endpoint with our metrics, /info's metrics port."""

import time
import uuid
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from ray._private import worker

from deployments.core.observability import MAX_REQUEST_ID_CHARS, usable_request_id
from tests.integration.client import FRENCH, error_of, served, translate
from tests.integration.conftest import METRICS_PORT

pytestmark = pytest.mark.integration

DEPLOYMENTS = ("TranslationIngress", "Translator", "Postprocessor")


def fresh_id() -> str:
    return f"obs-{uuid.uuid4()}"


def replica_logs(deployment: str) -> list[Path]:
    logs = Path(worker._global_node.get_logs_dir_path()) / "serve"
    return sorted(logs.glob(f"replica_translation_{deployment}_*.log"))


def wait_for_log_lines(request_id: str, timeout_s: float = 30) -> dict[str, list[str]]:
    """Each deployment's log lines naming ``request_id`` (logs reach the files with a delay)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = {
            deployment: [
                line
                for path in replica_logs(deployment)
                for line in path.read_text(errors="replace").splitlines()
                if request_id in line
            ]
            for deployment in DEPLOYMENTS
        }
        if all(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_the_callers_request_id_comes_back_on_answers_and_errors(http, base_url):
    for payload, status in [({"text": "Hello world!"}, 200), ({"text": ""}, 422)]:
        request_id = fresh_id()
        response = translate(http, base_url, payload, headers={"X-Request-ID": request_id})
        assert response.status_code == status
        assert response.headers["X-Request-ID"] == request_id
        assert "X-Request-ID-Replaced-By" not in response.headers
    unknown = http.get(f"{base_url}/no/such/route", headers={"X-Request-ID": "r-404"}, timeout=10)
    assert unknown.headers["X-Request-ID"] == "r-404"


def test_a_request_without_an_id_gets_a_new_one(http, base_url):
    first = translate(http, base_url, {"text": "Thank you."}).headers["X-Request-ID"]
    second = translate(http, base_url, {"text": "Thank you."}).headers["X-Request-ID"]
    assert usable_request_id(first) and usable_request_id(second) and first != second


def test_the_id_is_in_the_log_lines_of_all_three_deployments(http, base_url):
    request_id = fresh_id()
    phrase = FRENCH[3]
    response = translate(
        http, base_url, {"text": phrase.text}, headers={"X-Request-ID": request_id}
    )
    assert response.json() == {"translation": served(phrase)}
    found = wait_for_log_lines(request_id)
    assert all(found.values()), {d: len(lines) for d, lines in found.items()}
    assert any("model" in line for line in found["Translator"])


def test_batched_requests_each_find_their_own_id_in_the_translators_log(base_url):
    ids = [fresh_id() for _ in range(8)]

    def one(request_id):
        return translate(
            requests, base_url, {"text": "Good night."}, headers={"X-Request-ID": request_id}
        )

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(ids)) as pool:
        assert all(r.status_code == 200 for r in pool.map(one, ids))
    for request_id in ids:
        assert all(wait_for_log_lines(request_id).values()), request_id


def test_an_unusable_id_is_replaced_and_the_replacement_is_logged(http, base_url):
    too_long = "x" * (MAX_REQUEST_ID_CHARS + 1)
    response = translate(
        http, base_url, {"text": "Hello world!"}, headers={"X-Request-ID": too_long}
    )
    assert response.status_code == 200
    # Serve's proxy echoes the caller's header; the graph says which id it used instead.
    replacement = response.headers["X-Request-ID-Replaced-By"]
    assert usable_request_id(replacement)
    assert all(wait_for_log_lines(replacement).values())


def timings(response) -> dict[str, float]:
    return {
        name: float(response.headers[f"X-{name.title()}-Time-Ms"])
        for name in ("queue", "model", "total")
        if f"X-{name.title()}-Time-Ms" in response.headers
    }


def test_timing_headers_are_present_and_consistent(http, base_url):
    response = translate(http, base_url, {"text": [p.text for p in FRENCH[:6]]})
    assert response.status_code == 200
    got = timings(response)
    assert set(got) == {"queue", "model", "total"}
    assert got["model"] > 0 and got["queue"] >= 0
    # Each figure is rounded to 0.1 ms.
    assert got["total"] + 0.2 >= got["queue"] + got["model"]
    server_timing = response.headers["Server-Timing"]
    assert server_timing == (
        f"queue;dur={got['queue']:.1f}, model;dur={got['model']:.1f}, total;dur={got['total']:.1f}"
    )


def test_an_error_before_the_model_has_only_its_total_time(http, base_url):
    response = translate(http, base_url, {"text": "Hi", "bogus": 1})
    error_of(response, 422)
    assert set(timings(response)) == {"total"}
    assert response.headers["Server-Timing"].startswith("total;dur=")


def test_info_reports_the_metrics_port(http, base_url):
    assert http.get(f"{base_url}/info", timeout=30).json()["metrics"] == {
        "port": METRICS_PORT,
        "path": "/metrics",
    }


def scrape(metrics_url) -> list:
    """Every sample of our metrics (and only ours): (name, labels, value)."""
    text = requests.get(metrics_url, timeout=10).text
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("ray_translation_")
    ]


def total(samples, name, **labels) -> float:
    return sum(
        value
        for sample_name, sample_labels, value in samples
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items())
    )


def test_our_metrics_reach_the_prometheus_endpoint(http, base_url, metrics_url):
    before = scrape(metrics_url)
    texts = [p.text for p in FRENCH[:10]]
    assert translate(http, base_url, {"text": texts}).status_code == 200
    assert translate(http, base_url, {"text": texts[:3], "target": "de"}).status_code == 200
    error_of(translate(http, base_url, {"text": "Hi", "target": "zz"}), 422)

    translator = {"deployment": "Translator", "application": "translation"}
    ingress = {"deployment": "TranslationIngress", "application": "translation"}
    expected = [
        (
            "ray_translation_texts_translated_total",
            {**translator, "target": "fr", "model": "phrasebook-t5"},
            10,
        ),
        ("ray_translation_texts_translated_total", {**translator, "target": "de"}, 3),
        ("ray_translation_batch_texts_count", {**translator, "target": "fr"}, 1),
        ("ray_translation_batch_padded_tokens_count", {**translator, "target": "fr"}, 1),
        ("ray_translation_model_seconds_count", {**translator, "target": "fr"}, 1),
        ("ray_translation_queue_wait_seconds_count", {**translator, "target": "fr"}, 1),
        ("ray_translation_input_tokens_total", {**translator, "target": "fr", "kind": "real"}, 10),
        # A pair no model serves is refused by the ingress, from its routing catalog.
        (
            "ray_translation_errors_total",
            {**ingress, "target": "other", "code": "unsupported_target", "stage": "ingress"},
            1,
        ),
        (
            "ray_translation_requests_total",
            {**ingress, "target": "fr", "route": "/translate", "api": "native", "status": "200"},
            1,
        ),
        (
            "ray_translation_requests_total",
            {**ingress, "target": "other", "route": "/translate", "status": "422"},
            1,
        ),
        ("ray_translation_request_seconds_count", {**ingress, "target": "fr"}, 1),
    ]
    # Serve pushes metrics to the node's exporter every few seconds.
    deadline = time.monotonic() + 60
    while True:
        after = scrape(metrics_url)
        missing = [
            (name, labels, at_least, total(after, name, **labels) - total(before, name, **labels))
            for name, labels, at_least in expected
            if total(after, name, **labels) - total(before, name, **labels) < at_least
        ]
        if not missing:
            break
        assert time.monotonic() < deadline, f"not exported within 60 s: {missing}"
        time.sleep(2)
    # Sensible values: every fr text's real tokens at most its padded ones, model time spent.
    real = total(after, "ray_translation_input_tokens_total", kind="real", target="fr")
    padded = total(after, "ray_translation_input_tokens_total", kind="padded", target="fr")
    assert 0 < real <= padded
    assert total(after, "ray_translation_model_seconds_sum", target="fr") > 0
