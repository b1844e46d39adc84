import pytest
from pydantic import ValidationError

from deployments.core.settings import IngressSettings, ModelSettings, TranslatorSettings


def test_defaults_are_valid_and_safe_for_a_small_machine():
    assert IngressSettings().max_batch_size == 32
    (model,) = TranslatorSettings().models
    assert (model.id, model.model, model.device, model.dtype) == (
        "t5-small",
        "t5-small",
        "auto",
        "float32",
    )
    assert model.decoding.overrides() == {}


def test_decoding_overrides_keep_only_what_is_set():
    settings = ModelSettings(decoding={"num_beams": 2, "max_length": 40})
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
    base = ModelSettings(model="a", device="cpu")
    assert base.load_key() == ModelSettings(
        model="a", device="cpu", decoding={"num_beams": 3}
    ).load_key(2)
    assert base.load_key() != ModelSettings(model="b", device="cpu").load_key()


def test_the_languages_are_optional_and_decide_the_pairs_at_load():
    assert (ModelSettings().source, ModelSettings().languages) == (None, None)
    marian = ModelSettings(model="opus-mt-en-de", source="en", target="de")
    assert marian.load_key() != ModelSettings(model="opus-mt-en-de").load_key()
    some = ModelSettings(languages=["de", "en", "fr"])
    assert some.languages == ("de", "en", "fr")


def test_the_default_engine_is_torch_as_the_seed():
    settings = ModelSettings()
    assert (settings.engine, settings.compute_type) == ("torch", None)


@pytest.mark.parametrize("compute_type", ["int8", "int8_float32", "float32"])
def test_ctranslate2_takes_the_cpu_compute_types(compute_type):
    settings = ModelSettings(device="cpu", engine="ctranslate2", compute_type=compute_type)
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
    settings = ModelSettings(device="cuda", engine="ctranslate2", compute_type="float16")
    assert settings.compute_type == "float16"


def test_an_engine_or_compute_type_change_reloads_the_model():
    torch_fp32 = ModelSettings(model="a", device="cpu")
    int8 = ModelSettings(model="a", device="cpu", engine="ctranslate2", compute_type="int8")
    float32 = int8.model_copy(update={"compute_type": "float32"})
    bf16 = ModelSettings(model="a", device="cpu", dtype="bfloat16")
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
    assert ModelSettings(**ct2).load_key(1) != ModelSettings(**ct2).load_key(2)
    torch = {"model": "a", "device": "cpu"}
    assert ModelSettings(**torch).load_key(1) == ModelSettings(**torch).load_key(2)


def test_one_model_at_the_top_is_a_list_of_one():
    settings = TranslatorSettings(model="build/phrasebook-t5", threads=2, decoding={"num_beams": 2})
    assert settings.threads == 2
    (model,) = settings.models
    assert (model.id, model.model, model.decoding.num_beams) == (
        "phrasebook-t5",
        "build/phrasebook-t5",
        2,
    )


def test_several_models_each_with_its_own_settings():
    settings = TranslatorSettings.model_validate(
        {
            "models": [
                {"model": "t5-small"},
                {
                    "id": "fr-en",
                    "model": "Helsinki-NLP/opus-mt-fr-en",
                    "source": "fr",
                    "target": "en",
                },
                {
                    "model": "facebook/nllb-200-distilled-600M/",
                    "engine": "ctranslate2",
                    "compute_type": "int8",
                },
            ],
            "max_models_per_replica": 2,
        }
    )
    assert [m.id for m in settings.models] == ["t5-small", "fr-en", "nllb-200-distilled-600M"]
    assert settings.find("fr-en").source == "fr"
    assert settings.find("opus-mt-fr-en") is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"models": []}, "at least 1"),
        ({"models": [{"model": "a/x"}, {"model": "b/x"}]}, "listed twice"),
        ({"models": [{"model": "a"}], "engine": "torch"}, "inside each entry of models"),
        ({"models": [{"model": "a", "id": "no spaces"}]}, "id"),
        ({"models": [{"model": "a"}], "max_models_per_replica": 0}, "max_models_per_replica"),
    ],
)
def test_bad_model_lists_refuse_to_deploy(bad, message):
    with pytest.raises(ValidationError, match=message):
        TranslatorSettings.model_validate(bad)
