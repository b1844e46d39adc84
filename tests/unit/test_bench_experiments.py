"""benchmarks/experiments/: the settings each experiment builds, without running a model."""

import pytest

from benchmarks.experiments.engine_fidelity import differing, engine_settings
from benchmarks.experiments.settings_ab import alternating, with_overrides
from deployments.core.settings import TranslatorSettings
from graph.deploy import deployment_of, load_config


def local_translator() -> dict:
    return deployment_of(load_config("local", first_model_only=True), "Translator")


def test_overrides_change_only_the_keys_named():
    translator = local_translator()
    changed = with_overrides(
        translator, ["batching.max_batch_tokens=2048", "single_thread_max_texts=0"]
    )
    assert changed["user_config"]["batching"]["max_batch_tokens"] == 2048
    assert changed["user_config"]["batching"]["encoder_group_size"] == 8
    assert changed["user_config"]["single_thread_max_texts"] == 0
    assert translator["user_config"]["batching"]["max_batch_tokens"] == 8192  # a copy
    assert changed["ray_actor_options"] == translator["ray_actor_options"]
    with pytest.raises(ValueError, match="key=value"):
        with_overrides(translator, ["threads"])


def test_variants_take_turns_going_first():
    assert alternating(3) == ["A", "B", "B", "A", "A", "B"]


@pytest.mark.parametrize(
    ("spec", "engine", "dtype", "compute_type"),
    [
        ("torch:bfloat16", "torch", "bfloat16", None),
        ("ctranslate2:int8", "ctranslate2", "float32", "int8"),
        ("ctranslate2", "ctranslate2", "float32", "int8"),
    ],
)
def test_an_engine_spec_gives_settings_the_translator_accepts(spec, engine, dtype, compute_type):
    settings = TranslatorSettings.model_validate(
        engine_settings(local_translator(), spec)["user_config"]
    ).models[0]
    assert (settings.engine, settings.dtype, settings.compute_type) == (
        engine,
        dtype,
        compute_type,
    )
    back = engine_settings(engine_settings(local_translator(), spec), "torch")
    assert TranslatorSettings.model_validate(back["user_config"]).models[0].compute_type is None
    with pytest.raises(ValueError, match="expected torch"):
        engine_settings(local_translator(), "onnx")


def test_differing_counts_positions_that_differ():
    assert differing(["a", "b", "c"], ["a", "x", "y"]) == 2
