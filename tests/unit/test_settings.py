import pytest
from pydantic import ValidationError

from deployments.settings import IngressSettings, TranslatorSettings


def test_defaults_are_valid_and_safe_for_a_small_machine():
    assert IngressSettings().max_batch_size == 32
    settings = TranslatorSettings()
    assert (settings.model, settings.device, settings.dtype) == ("t5-small", "auto", "float32")
    assert settings.decoding.overrides() == {}


def test_decoding_overrides_keep_only_what_is_set():
    settings = TranslatorSettings(decoding={"num_beams": 2, "max_length": 40})
    assert settings.decoding.overrides() == {"num_beams": 2, "max_length": 40}


@pytest.mark.parametrize(
    "bad",
    [
        {"device": "tpu"},
        {"dtype": "int4"},
        {"torch_threads": 0},
        {"decoding": {"num_beams": 0}},
        {"decoding": {"temperature_typo": 1}},
        {"unknown_key": 1},
        {"device": "cpu", "dtype": "float16"},
        {"model": ""},
    ],
)
def test_bad_translator_settings_refuse_to_deploy(bad):
    with pytest.raises(ValidationError):
        TranslatorSettings.model_validate(bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"max_batch_size": 0},
        {"batch_wait_timeout_s": -1},
        {"limits": {"max_chars_per_text": 0}},
        {"batch_size": 8},
    ],
)
def test_bad_ingress_settings_refuse_to_deploy(bad):
    with pytest.raises(ValidationError):
        IngressSettings.model_validate(bad)


def test_only_model_device_and_dtype_need_a_reload():
    base = TranslatorSettings(model="a", device="cpu")
    assert (
        base.load_key()
        == TranslatorSettings(
            model="a", device="cpu", torch_threads=2, decoding={"num_beams": 3}
        ).load_key()
    )
    assert base.load_key() != TranslatorSettings(model="b", device="cpu").load_key()
