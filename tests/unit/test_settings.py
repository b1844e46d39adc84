import pytest
from pydantic import ValidationError

from deployments.core.settings import IngressSettings, TranslatorSettings


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
        {"threads": 0},
        {"decoding": {"num_beams": 0}},
        {"decoding": {"temperature_typo": 1}},
        {"unknown_key": 1},
        {"device": "cpu", "dtype": "float16"},
        {"model": ""},
        {"source": "English"},
        {"target": "DE"},
        {"languages": ["de"]},
        {"languages": ["de", "deu_Latn"]},
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
            model="a", device="cpu", threads=2, decoding={"num_beams": 3}
        ).load_key()
    )
    assert base.load_key() != TranslatorSettings(model="b", device="cpu").load_key()


def test_the_languages_are_optional_and_decide_the_pairs_at_load():
    assert (TranslatorSettings().source, TranslatorSettings().languages) == (None, None)
    marian = TranslatorSettings(model="opus-mt-en-de", source="en", target="de")
    assert marian.load_key() != TranslatorSettings(model="opus-mt-en-de").load_key()
    some = TranslatorSettings(languages=["de", "en", "fr"])
    assert some.languages == ("de", "en", "fr")


def test_the_default_engine_is_torch_as_the_seed():
    settings = TranslatorSettings()
    assert (settings.engine, settings.compute_type) == ("torch", None)


@pytest.mark.parametrize("compute_type", ["int8", "int8_float32", "float32"])
def test_ctranslate2_takes_the_cpu_compute_types(compute_type):
    settings = TranslatorSettings(device="cpu", engine="ctranslate2", compute_type=compute_type)
    assert settings.compute_type == compute_type


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"engine": "onnx"}, "engine"),
        ({"engine": "ctranslate2"}, "needs compute_type"),
        ({"engine": "ctranslate2", "compute_type": "int4"}, "compute_type"),
        ({"compute_type": "int8"}, "applies to engine ctranslate2"),
        ({"engine": "ctranslate2", "compute_type": "int8", "dtype": "bfloat16"}, "dtype"),
        ({"engine": "ctranslate2", "compute_type": "float16", "device": "cpu"}, "needs device"),
        ({"engine": "ctranslate2", "compute_type": "int8_float16", "device": "cpu"}, "cuda"),
    ],
)
def test_bad_engine_settings_refuse_to_deploy(bad, message):
    with pytest.raises(ValidationError, match=message):
        TranslatorSettings.model_validate(bad)


def test_gpu_compute_types_are_valid_on_cuda():
    settings = TranslatorSettings(device="cuda", engine="ctranslate2", compute_type="float16")
    assert settings.compute_type == "float16"


def test_an_engine_or_compute_type_change_reloads_the_model():
    torch_fp32 = TranslatorSettings(model="a", device="cpu")
    int8 = TranslatorSettings(model="a", device="cpu", engine="ctranslate2", compute_type="int8")
    float32 = int8.model_copy(update={"compute_type": "float32"})
    bf16 = TranslatorSettings(model="a", device="cpu", dtype="bfloat16")
    assert len({s.load_key() for s in (torch_fp32, int8, float32, bf16)}) == 4


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("backend", "ctranslate2", "renamed to engine"),
        ("torch_threads", 2, "renamed to threads"),
        ("realtime_model_thread", True, "removed"),
    ],
)
def test_a_retired_key_is_refused_with_what_to_write_instead(key, value, hint):
    with pytest.raises(ValidationError, match=hint):
        TranslatorSettings.model_validate({"model": "m", key: value})


def test_ctranslate2_reloads_for_new_threads_torch_does_not():
    # CTranslate2 fixes intra_threads when it loads the model; torch sets them per call.
    ct2 = {"model": "a", "device": "cpu", "engine": "ctranslate2", "compute_type": "int8"}
    assert (
        TranslatorSettings(**ct2, threads=1).load_key()
        != TranslatorSettings(**ct2, threads=2).load_key()
    )
