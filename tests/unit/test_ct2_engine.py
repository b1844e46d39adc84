"""The CTranslate2 engine on the real phrasebook checkpoint, without Ray.

Fidelity is measured against the torch path: every compute type must reproduce the phrasebook
exactly, and the decoding settings must mean what they mean to ``generate``.
"""

import json
import shutil

import pytest
import torch

from checkpoints.phrasebook import load_phrasebook
from deployments.core.settings import CPU_COMPUTE_TYPES, ModelSettings
from deployments.engines import ct2_engine as ct2
from deployments.engines import load_engine
from deployments.engines.base import Pair
from deployments.engines.torch_engine import TorchEngine
from tests.unit.test_torch_engine import STRANGERS

PHRASES = load_phrasebook()
FRENCH = [p.text for p in PHRASES if p.target == "fr"]
FR = Pair("en", "fr")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("ct2-cache"))


@pytest.fixture(scope="module")
def torch_translator(phrasebook_checkpoint):
    return TorchEngine(str(phrasebook_checkpoint), device="cpu")


@pytest.fixture(scope="module", params=CPU_COMPUTE_TYPES)
def translator(request, phrasebook_checkpoint, cache_dir):
    return ct2.CTranslate2Engine(
        str(phrasebook_checkpoint), compute_type=request.param, threads=2, cache_dir=cache_dir
    )


@pytest.fixture(scope="module")
def float32_translator(phrasebook_checkpoint, cache_dir):
    return ct2.CTranslate2Engine(
        str(phrasebook_checkpoint), compute_type="float32", threads=2, cache_dir=cache_dir
    )


@pytest.mark.parametrize("target", ["fr", "de"])
def test_every_phrase_is_reproduced_exactly(translator, target):
    phrases = [p for p in PHRASES if p.target == target]
    assert translator.translate([p.text for p in phrases], Pair("en", target)) == [
        p.translation for p in phrases
    ]


def test_same_pairs_prefix_and_limit_as_torch(translator, torch_translator):
    assert translator.pairs == torch_translator.pairs
    assert translator.max_input_tokens == torch_translator.max_input_tokens == 512
    texts = FRENCH[:5] + STRANGERS
    assert translator.encode(texts, FR) == torch_translator.encode(texts, FR)


def test_alone_or_batched_gives_the_same_output(translator):
    texts = FRENCH[:20] + STRANGERS
    batched = translator.translate(texts, FR)
    assert batched == [translator.translate([text], FR)[0] for text in texts]
    assert translator.translate_encoded([], FR) == []


@pytest.mark.parametrize(
    "overrides",
    [
        None,
        {"max_length": 3},  # counts the decoder start token, as in generate
        {"max_length": 8},
        {"min_length": 12},
        {"min_length": 30, "max_length": 40},
        {"max_new_tokens": 4},  # wins over max_length, as in generate
        {"no_repeat_ngram_size": 2},
        {"repetition_penalty": 1.5},
        {"min_length": 10, "no_repeat_ngram_size": 2},
        # t5-small's own decoding: 4 beams, early stopping, max_length 300.
        {"num_beams": 4, "early_stopping": True, "max_length": 300},
        {"num_beams": 4, "early_stopping": True, "length_penalty": 0.6},
        {"num_beams": 4, "early_stopping": True, "max_length": 6},
    ],
    ids=str,
)
def test_decoding_settings_mean_what_they_mean_to_generate(
    float32_translator, torch_translator, overrides
):
    """float32 against torch fp32 on phrases and on strangers (nonsense, of any length)."""
    translator = float32_translator
    texts = FRENCH[:40] + STRANGERS
    translator.set_decoding(overrides)
    torch_translator.set_decoding(overrides)
    try:
        assert translator.translate(texts, FR) == torch_translator.translate(texts, FR)
    finally:
        translator.set_decoding(None)
        torch_translator.set_decoding(None)


def test_decoding_options_map_generate_lengths():
    options = ct2.decoding_options({"max_length": 20}, {"min_length": 33, "max_length": 33})
    assert (options["min_decoding_length"], options["max_decoding_length"]) == (32, 32)
    assert ct2.decoding_options({"max_length": 20}, {})["max_decoding_length"] == 19
    assert (
        ct2.decoding_options({}, {"max_length": 300, "max_new_tokens": 7})["max_decoding_length"]
        == 7
    )
    assert ct2.decoding_options({}, {"num_beams": 4})["beam_size"] == 4
    assert ct2.decoding_options({}, {})["max_input_length"] == 0  # never truncate


def test_a_decoding_setting_it_cannot_apply_is_refused():
    with pytest.raises(ValueError, match="do_sample"):
        ct2.decoding_options({}, {"do_sample": True})


def test_load_engine_picks_the_engine(phrasebook_checkpoint, cache_dir, monkeypatch):
    monkeypatch.setenv(ct2.CACHE_ENV, cache_dir)
    settings = ModelSettings(
        model=str(phrasebook_checkpoint),
        device="cpu",
        engine="ctranslate2",
        compute_type="int8",
        decoding={"max_length": 40},
    )
    model = load_engine(settings, "cpu", threads=2)
    assert (model.engine, model.compute_type) == ("ctranslate2", "int8")
    assert model.pairs[FR].generate_kwargs["max_length"] == 40
    assert model.translate(["Yes."], FR) == ["Oui."]
    torch_model = load_engine(ModelSettings(model=str(phrasebook_checkpoint)), "cpu")
    assert (torch_model.engine, torch_model.compute_type) == ("torch", None)


def test_gpu_compute_types_are_refused_on_a_cpu_replica(phrasebook_checkpoint):
    settings = ModelSettings(
        model=str(phrasebook_checkpoint), engine="ctranslate2", compute_type="float16"
    )  # device auto: valid until it resolves to cpu
    with pytest.raises(ValueError, match="needs a GPU"):
        load_engine(settings, "cpu")


# --- the conversion cache ----------------------------------------------------------------------


@pytest.fixture
def checkpoint_copy(phrasebook_checkpoint, tmp_path):
    folder = tmp_path / "phrasebook"
    shutil.copytree(phrasebook_checkpoint, folder)
    return folder


def test_the_second_load_reuses_the_conversion(checkpoint_copy, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = ct2.convert(str(checkpoint_copy), "int8", str(cache))
    stamp = json.loads((first / ct2.STAMP).read_text())
    assert stamp["compute_type"] == "int8"
    assert stamp["checkpoint"] == str(checkpoint_copy.resolve())

    def refuse(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(ct2._Transformers5Converter, "convert", refuse)
    assert ct2.convert(str(checkpoint_copy), "int8", str(cache)) == first
    translator = ct2.CTranslate2Engine(
        str(checkpoint_copy), compute_type="int8", cache_dir=str(cache)
    )
    assert translator.path == first
    assert translator.translate(["Good night."], FR) == ["Bonne nuit."]


def test_the_key_changes_with_compute_type_and_checkpoint(checkpoint_copy, tmp_path):
    cache = str(tmp_path / "cache")
    int8 = ct2.converted_path(str(checkpoint_copy), "int8", cache)
    assert int8 != ct2.converted_path(str(checkpoint_copy), "float32", cache)
    assert int8 == ct2.converted_path(str(checkpoint_copy), "int8", cache)
    weights = checkpoint_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # same bytes, new file: new mtime
    assert int8 != ct2.converted_path(str(checkpoint_copy), "int8", cache)


def test_the_cache_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ct2.CACHE_ENV, str(tmp_path))
    assert ct2.cache_root() == tmp_path
    monkeypatch.delenv(ct2.CACHE_ENV)
    assert ct2.cache_root() == ct2.DEFAULT_CACHE


def test_a_replica_that_loses_the_conversion_race_uses_the_winners_copy(
    checkpoint_copy, tmp_path, monkeypatch
):
    """Replica A converts; while it does, replica B converts too and renames first. A must
    drop its copy and use B's, leaving one whole model and no staging folder behind.

    (Sequential on purpose: replicas are processes, and transformers' loading is not safe in
    two threads of one process.)"""
    cache = tmp_path / "cache"
    real_convert = ct2._Transformers5Converter.convert
    calls = []

    def convert_while_another_replica_finishes_first(self, output_dir, **kwargs):
        calls.append(output_dir)
        result = real_convert(self, output_dir, **kwargs)
        if len(calls) == 1:  # replica B, start to finish, before A renames
            ct2.convert(str(checkpoint_copy), "int8_float32", str(cache))
        return result

    monkeypatch.setattr(
        ct2._Transformers5Converter, "convert", convert_while_another_replica_finishes_first
    )
    path = ct2.convert(str(checkpoint_copy), "int8_float32", str(cache))
    assert len(calls) == 2
    assert [p.name for p in cache.iterdir()] == [path.name]  # no staging folder left
    assert {"model.bin", "config.json", ct2.STAMP} <= {p.name for p in path.iterdir()}
    translator = ct2.CTranslate2Engine(
        str(checkpoint_copy), compute_type="int8_float32", cache_dir=str(cache)
    )
    assert translator.translate(["Yes."], FR) == ["Oui."]


def test_an_unfinished_conversion_is_not_used(checkpoint_copy, tmp_path):
    """A folder without the stamp (a conversion killed half way) is converted again."""
    cache = str(tmp_path / "cache")
    target = ct2.converted_path(str(checkpoint_copy), "int8", cache)
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"half")
    assert ct2.convert(str(checkpoint_copy), "int8", cache, force=True) == target
    assert (target / ct2.STAMP).is_file()


# --- transformers 5 and ctranslate2's T5 converter ---------------------------------------------


def test_a_t5_v1_1_style_checkpoint_converts_with_the_right_output_scale(checkpoint_copy, tmp_path):
    """T5 v1.1 / flan-t5 configs say ``tie_word_embeddings: false``: no scaling of the decoder
    output. transformers 5 reads that into ``scale_decoder_outputs`` and sets
    ``tie_word_embeddings`` True, which ctranslate2 4.8.5 alone would read as "scale". Greedy
    argmax cannot see a constant scale on the logits, so compare log-probabilities."""
    from transformers import AutoModelForSeq2SeqLM

    config = json.loads((checkpoint_copy / "config.json").read_text())
    config.pop("scale_decoder_outputs")
    config["tie_word_embeddings"] = False  # as a transformers 4 era T5 v1.1 config.json has it
    (checkpoint_copy / "config.json").write_text(json.dumps(config))
    model = AutoModelForSeq2SeqLM.from_pretrained(checkpoint_copy).eval()
    assert model.config.scale_decoder_outputs is False

    translator = ct2.CTranslate2Engine(
        str(checkpoint_copy), compute_type="float32", cache_dir=str(tmp_path / "cache")
    )
    tokenizer = translator.tokenizer
    source = tokenizer(["translate English to French: Hello world!"])["input_ids"]
    # Not the phrase's translation: its log-probabilities are far from 0, where a scale shows.
    target = tokenizer(["Il fait chaud, merci."])["input_ids"]
    (scored,) = translator.translator.score_batch(
        [tokenizer.convert_ids_to_tokens(source[0])],
        [tokenizer.convert_ids_to_tokens(target[0][:-1])],  # ctranslate2 adds the </s>
    )
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor(source), labels=torch.tensor(target)).logits
    expected = torch.log_softmax(logits[0], -1).gather(1, torch.tensor(target).T).squeeze(1)
    assert min(expected.tolist()) < -1
    assert scored.log_probs == pytest.approx(expected.tolist(), abs=1e-3)


def test_float16_on_a_replica_that_resolved_to_cpu_is_refused(phrasebook_checkpoint):
    settings = ModelSettings(model=str(phrasebook_checkpoint), dtype="float16")
    with pytest.raises(ValueError, match="float16 needs a GPU"):
        load_engine(settings, "cpu")
