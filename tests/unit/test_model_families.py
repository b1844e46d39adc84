"""Each model family on both engines, on tiny random-weight checkpoints built here.

What must hold: each checkpoint offers the pairs its family's rules give, through load_engine;
CTranslate2's greedy output is torch's for every pair (so the source language and the forced
target token reach both engines the same way); and generation starts with the target's
language token where the family forces one.
"""

import logging
import shutil

import pytest
import torch
from transformers import MarianMTModel

from deployments.core.settings import ModelSettings
from deployments.engines import ct2_engine as ct2
from deployments.engines import load_engine
from deployments.engines.base import Pair
from deployments.engines.families import generate_kwargs
from tests.fixtures.tiny_checkpoints import BUILDERS

TEXTS = ["Hello world!", "Where is the station?", "Merci beaucoup.", "Ok."]
# What each family's Translator config says about languages, and the pairs it then offers.
LANGUAGES = {
    "t5": {},
    "marian": {"source": "en", "target": "de"},
    "m2m100": {"languages": ("de", "en", "ru")},
    "nllb": {},
}
PAIRS = {
    "t5": ["de-fr", "en-de", "en-fr"],
    "marian": ["en-de"],
    "m2m100": ["de-en", "de-ru", "en-de", "en-ru", "ru-de", "ru-en"],
    # Its fourth language, zul_Latn, is not in languages.py's table: not offered.
    "nllb": ["de-en", "de-fr", "en-de", "en-fr", "fr-de", "fr-en"],
}
MODEL_TYPES = {"t5": "t5", "marian": "marian", "m2m100": "m2m_100", "nllb": "m2m_100"}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    return {name: build(root / name) for name, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def engines(checkpoints, tmp_path_factory):
    """(family, engine name) -> the checkpoint loaded through load_engine."""
    cache = tmp_path_factory.mktemp("ct2-cache")
    loaded = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ct2.CACHE_ENV, str(cache))
        for family, folder in checkpoints.items():
            common = {"model": str(folder), "device": "cpu", **LANGUAGES[family]}
            loaded[family, "torch"] = load_engine(ModelSettings(**common), "cpu", threads=1)
            ct2_settings = {**common, "engine": "ctranslate2", "compute_type": "float32"}
            ct2_model = ModelSettings(**ct2_settings)
            loaded[family, "ctranslate2"] = load_engine(ct2_model, "cpu", threads=1)
    return loaded


@pytest.mark.parametrize("engine_name", ["torch", "ctranslate2"])
@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_each_family_offers_its_pairs_on_each_engine(engines, family, engine_name):
    engine = engines[family, engine_name]
    assert engine.engine == engine_name
    assert engine.family == MODEL_TYPES[family]
    assert [pair.key for pair in engine.pairs] == PAIRS[family]


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_ctranslate2_decodes_every_pair_as_generate_does(engines, family):
    torch_engine, ct2_engine = engines[family, "torch"], engines[family, "ctranslate2"]
    for pair in torch_engine.pairs:
        encoded = torch_engine.encode(TEXTS, pair)
        assert ct2_engine.encode(TEXTS, pair) == encoded
        assert ct2_engine.generate(encoded, pair) == torch_engine.generate(encoded, pair), pair


@pytest.mark.parametrize("family", ["m2m100", "nllb"])
def test_the_source_language_leads_the_input_and_the_target_leads_the_output(
    engines, family, monkeypatch
):
    engine = engines[family, "torch"]
    tokenizer = engine.tokenizer
    generated = []
    original = engine.model.generate

    def keep_output(*args, **kwargs):
        generated.append(original(*args, **kwargs))
        return generated[-1]

    monkeypatch.setattr(engine.model, "generate", keep_output)
    for pair in engine.pairs:
        decoding = engine.pairs[pair]
        source_id, target_id = tokenizer.convert_tokens_to_ids(
            [_language_token(family, pair.source), _language_token(family, pair.target)]
        )
        assert decoding.target_token == _language_token(family, pair.target)
        encoded = engine.encode(TEXTS, pair)
        assert {ids[0] for ids in encoded} == {source_id}
        engine.generate(encoded, pair)
        # Column 0 is the decoder's start token; the forced language token follows it.
        assert generated[-1][:, 1].tolist() == [target_id] * len(TEXTS), pair
    assert len(generated) == len(engine.pairs)


def _language_token(family: str, code: str) -> str:
    if family == "m2m100":
        return f"__{code}__"
    return {"de": "deu_Latn", "en": "eng_Latn", "fr": "fra_Latn"}[code]


@pytest.mark.parametrize("family", ["t5", "marian"])
def test_a_family_without_language_tokens_forces_no_first_token(engines, family):
    engine = engines[family, "torch"]
    for decoding in engine.pairs.values():
        assert (decoding.source_language, decoding.target_token) == (None, None)
        assert "forced_bos_token_id" not in generate_kwargs(engine.tokenizer, decoding)


def test_marians_forced_end_token_does_not_hide_a_cut_translation(engines):
    """Marian's config forces an end token at the length limit. Applied, it would make a
    translation cut there look finished, and the runner would not translate it again."""
    engine = engines["marian", "torch"]
    assert engine.model.generation_config.forced_eos_token_id == 0
    pair = Pair("en", "de")
    with torch.inference_mode():
        padded = engine.tokenizer.pad(
            {"input_ids": engine.encode(TEXTS, pair)}, return_tensors="pt"
        )
        forced = engine.model.generate(**padded)  # the checkpoint's own settings
    assert (forced[:, -1] == 0).all()  # every row "ends" at the limit
    generated = engine.generate(engine.encode(TEXTS, pair), pair)
    assert not all(g.finished for g in generated)
    assert generated == engines["marian", "ctranslate2"].generate(engine.encode(TEXTS, pair), pair)


def test_t5_prefixes_are_per_pair(engines):
    engine = engines["t5", "torch"]
    assert engine.pairs[Pair("de", "fr")].prefix == "translate German to French: "
    (with_prefix,) = engine.encode(["Hallo"], Pair("de", "fr"))
    assert engine.tokenizer.decode(with_prefix, skip_special_tokens=True).startswith(
        "translate German to French:"
    )


def test_decoding_overrides_reach_every_pair_on_both_engines(engines):
    for engine_name in ("torch", "ctranslate2"):
        engine = engines["m2m100", engine_name]
        engine.set_decoding({"max_length": 4})
        try:
            assert {d.generate_kwargs["max_length"] for d in engine.pairs.values()} == {4}
            assert all(d.target_token for d in engine.pairs.values())
        finally:
            engine.set_decoding(None)
    torch_engine, ct2_engine = engines["m2m100", "torch"], engines["m2m100", "ctranslate2"]
    pair = Pair("en", "de")
    for engine in (torch_engine, ct2_engine):
        engine.set_decoding({"max_length": 4})
    try:
        short = torch_engine.translate(TEXTS, pair)
        assert ct2_engine.translate(TEXTS, pair) == short
        # max_length counts the start token and the forced language token: two more tokens
        assert all(len(text.split()) <= 2 for text in short)
    finally:
        for engine in (torch_engine, ct2_engine):
            engine.set_decoding(None)


def test_the_m2m100_checkpoint_offers_every_pair_of_its_languages(checkpoints):
    engine = load_engine(
        ModelSettings(model=str(checkpoints["m2m100"]), device="cpu"), "cpu", warm_up=False
    )
    languages = ["cs", "de", "en", "ha", "is", "ja", "ru", "zh"]  # WMT21's
    assert list(engine.pairs) == [Pair(s, t) for s in languages for t in languages if s != t]


def test_source_and_target_restrict_a_multilingual_checkpoint(checkpoints):
    settings = ModelSettings(model=str(checkpoints["nllb"]), device="cpu", source="en")
    engine = load_engine(settings, "cpu", warm_up=False)
    assert [pair.key for pair in engine.pairs] == ["en-de", "en-fr"]
    settings = settings.model_copy(update={"target": "fr"})
    assert list(load_engine(settings, "cpu", warm_up=False).pairs) == [Pair("en", "fr")]


def test_a_marian_checkpoint_needs_its_pair_from_the_configuration(checkpoints):
    settings = ModelSettings(model=str(checkpoints["marian"]), device="cpu")
    with pytest.raises(ValueError, match="set source and target"):
        load_engine(settings, "cpu")


def test_a_selection_that_leaves_no_pair_is_refused(checkpoints):
    settings = ModelSettings(model=str(checkpoints["t5"]), device="cpu", target="ro")
    with pytest.raises(ValueError, match=r"offers no language pair.*en-fr"):
        load_engine(settings, "cpu")


def test_a_marian_start_embedding_ctranslate2_would_drop_is_logged(checkpoints, tmp_path, caplog):
    """CTranslate2 starts a Marian decoder from zero, whatever the start token's row holds."""
    moved = tmp_path / "moved"
    shutil.copytree(checkpoints["marian"], moved)
    model = MarianMTModel.from_pretrained(moved)
    with torch.no_grad():
        model.get_decoder().embed_tokens.weight[model.config.decoder_start_token_id] = 0.1
    model.save_pretrained(moved)
    cache = str(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger=ct2.__name__):
        ct2.convert(str(checkpoints["marian"]), "float32", cache)
        assert caplog.records == []
        ct2.convert(str(moved), "float32", cache)
    assert "decoder start token's embedding is not zero" in caplog.text
