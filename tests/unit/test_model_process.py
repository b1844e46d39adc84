"""benchmarks/model_process.py: the model alone, set up as the Translator sets up its model."""

import pytest

from benchmarks.model_process import (
    ModelProcess,
    calls,
    drive,
    outcome_of,
    replica_environment,
)
from deployments.core.errors import DeadlineExceeded, TranslationFailed
from deployments.text.segmentation import SegmentedText

SHIPPED = ("local", "cpu-fast", "cpu", "gpu")


def test_calls_cycle_through_the_texts_in_calls_of_the_client_count():
    assert list(calls(0, 7, 3, 5)) == [[0, 1, 2], [3, 4, 0], [1]]
    assert list(calls(0, 2, 1, 5)) == [[0], [1]]
    assert list(calls(0, 0, 32, 5)) == []
    with pytest.raises(ValueError):
        list(calls(0, 4, 0, 5))


def translated(text: str) -> SegmentedText:
    return SegmentedText((text.upper(),), ("", ""))


def test_drive_times_only_the_requests_after_the_warmup():
    seen: list[list[str]] = []

    def run_call(items):
        seen.append([item.text for item in items])
        return [translated(item.text) for item in items]

    outputs: list[str] = []
    result = drive(run_call, ["a", "b", "c"], clients=2, requests=5, warmup=2, outputs=outputs)
    # the warm-up's one call of two, then three calls for the five timed texts
    assert seen == [["a", "b"], ["a", "b"], ["c", "a"], ["b"]]
    assert (result.issued, result.completed, result.errors) == (5, 5, {})
    assert result.concurrency == 2
    assert result.throughput == pytest.approx(5 / result.wall_s)
    assert outputs == ["A", "B", "C", "A", "B"]


def test_drive_counts_failed_texts_by_their_error_code():
    def run_call(items):
        return [
            TranslationFailed("no") if item.text == "bad" else translated(item.text)
            for item in items
        ]

    outputs: list[str] = []
    result = drive(run_call, ["bad", "ok"], clients=1, requests=4, outputs=outputs)
    assert result.errors == {"translation_failed": 2}
    assert result.error_examples == {"translation_failed": "no"}
    assert result.completed == 2
    assert outputs == ["", "OK", "", "OK"]


def test_every_text_goes_to_french_without_a_deadline():
    items = []

    def run_call(batch):
        items.extend(batch)
        return [translated(item.text) for item in batch]

    drive(run_call, ["a"], clients=1, requests=2, warmup=1)
    assert {(item.target, item.deadline) for item in items} == {("fr", None)}


def test_an_outcome_is_an_error_only_when_it_is_one():
    late = outcome_of(DeadlineExceeded("late"), 0.5)
    assert (late.error, late.detail, late.latency_s) == ("deadline_exceeded", "late", 0.5)
    assert outcome_of(translated("x"), 0.5).error is None


def test_the_child_gets_the_thread_count_ray_gives_the_replica():
    assert replica_environment({"num_cpus": 1}, {"PATH": "/bin"}) == {
        "PATH": "/bin",
        "OMP_NUM_THREADS": "1",
    }
    assert replica_environment({"num_cpus": 0.25}, {})["OMP_NUM_THREADS"] == "1"
    assert replica_environment({"num_cpus": 4.5}, {})["OMP_NUM_THREADS"] == "4"
    assert replica_environment({}, {})["OMP_NUM_THREADS"] == "1"
    # one already set is kept, as Ray keeps it
    assert replica_environment({"num_cpus": 4}, {"OMP_NUM_THREADS": "2"}) == {
        "OMP_NUM_THREADS": "2"
    }


def test_settings_the_translator_would_refuse_stop_the_child_loudly():
    # ctranslate2 without a compute_type fails validation before any model is loaded
    model = ModelProcess({"user_config": {"engine": "ctranslate2"}, "ray_actor_options": {}})
    with pytest.raises(RuntimeError, match="did not start"):
        model.__enter__()
