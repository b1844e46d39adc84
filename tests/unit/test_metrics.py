"""The metrics we define and the Grafana dashboard that shows them cannot drift apart."""

import json
import re

import pytest

from deployments.core.metrics import (
    DEFINITIONS,
    EXPORTED,
    AdmissionMetrics,
    IngressMetrics,
    TranslatorMetrics,
)
from tests.paths import CONFIGS

DASHBOARD = CONFIGS / "grafana" / "translation-dashboard.json"


def queries():
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def test_the_dashboard_parses_and_has_its_panels():
    dashboard = json.loads(DASHBOARD.read_text())
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ("throughput", "batch size", "queue wait", "model time", "errors", "latency"):
        assert topic in titles
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_metric_the_dashboard_queries_is_one_we_define():
    queried = {name for expr in queries() for name in re.findall(r"\bray_[a-z_]+", expr)}
    assert queried, "the dashboard queries nothing"
    assert queried <= set(EXPORTED), queried - set(EXPORTED)


def test_every_metric_we_define_is_on_the_dashboard():
    shown = {
        EXPORTED[n] for e in queries() for n in re.findall(r"\bray_[a-z_]+", e) if n in EXPORTED
    }
    assert shown == set(DEFINITIONS)


def made():
    """Every metric the two deployments create, by name."""
    metrics = {}
    for group in (TranslatorMetrics(), IngressMetrics(), AdmissionMetrics()):
        for metric in vars(group).values():
            metrics[metric.info["name"]] = metric
    return metrics


def test_the_deployments_create_every_metric_defined_and_nothing_else():
    assert set(made()) == set(DEFINITIONS)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_each_metric_of_texts_has_a_target_tag_and_of_models_a_model_tag(name):
    metric = made()[name]
    assert metric.info["name"] == name
    # Per model, not per text: loads, evictions, load time, and each model's translation memory.
    about_models = (
        name.startswith("translation_model_") and name != "translation_model_seconds"
    ) or name.startswith("translation_memory_")
    assert ("model" if about_models else "target") in metric.info["tag_keys"]
    translator_metrics = {m.info["name"] for m in vars(TranslatorMetrics()).values()}
    if name in translator_metrics and name != "translation_errors":
        assert "model" in metric.info["tag_keys"]
