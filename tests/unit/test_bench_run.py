"""benchmarks/run.py's pure parts: which engines a run serves, the bar rounds' ratios."""

import pytest

from benchmarks.run import PRIMARY, backend_list, round_ratios, serve_shipped_dtype_beside
from graph.deploy import deployment_of, load_config


def translator_settings(config_name: str) -> dict:
    return deployment_of(load_config(config_name), "Translator")["user_config"]


def labels(engines) -> list[str]:
    return [b["label"] for b in engines]


def test_a_float32_config_serves_only_what_was_asked():
    settings = translator_settings("local")
    served = serve_shipped_dtype_beside(settings, None, backend_list("ctranslate2:int8"))
    assert labels(served) == ["ctranslate2 int8"]
    assert settings["dtype"] == "float32"


def test_the_gpu_config_float16_is_served_beside_the_float32_reference():
    settings = translator_settings("gpu")
    assert settings["dtype"] == "float16"
    served = serve_shipped_dtype_beside(settings, None, [])
    assert labels(served) == ["torch float16"]
    assert served[0]["settings"] == {"engine": "torch", "dtype": "float16"}
    # the main runs, labelled PRIMARY, are what the replica then loads
    assert (settings["dtype"], PRIMARY) == ("float32", "torch float32")


def test_an_explicit_dtype_wins_and_is_not_served_twice():
    settings = translator_settings("gpu")
    served = serve_shipped_dtype_beside(settings, "bfloat16", backend_list("torch:bfloat16"))
    assert labels(served) == ["torch bfloat16"]
    assert serve_shipped_dtype_beside(translator_settings("gpu"), "float32", []) == []


def test_each_bar_round_is_against_the_limits_just_before_and_after_it():
    limits = [{"uniform": 20.0, "mixed": 15.0}, {"uniform": 16.0, "mixed": 13.0}]
    limits.append({"uniform": 18.0, "mixed": 11.0})
    graphs = [{"uniform": 16.2, "mixed": 11.2}, {"uniform": 17.0, "mixed": 9.6}]
    ratios = round_ratios(limits, graphs)
    assert ratios["uniform"] == pytest.approx([16.2 / 18.0, 17.0 / 17.0])
    assert ratios["mixed"] == pytest.approx([11.2 / 14.0, 9.6 / 12.0])


def test_bar_rounds_need_a_limit_after_the_last_round():
    with pytest.raises(ValueError, match="2 rounds need 3 limits"):
        round_ratios([{"uniform": 20.0}, {"uniform": 18.0}], [{"uniform": 16.0}] * 2)
