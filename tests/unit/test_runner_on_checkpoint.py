"""What a Translator runs on each model, on the real phrasebook checkpoint, without Ray: long
text is cut to fit the model, expired work is dropped unrun, settings apply in place."""

import time

import pytest

from deployments.batching.runner import BatchRunner
from deployments.core.errors import DeadlineExceeded
from deployments.core.messages import TextItem
from deployments.core.settings import TranslatorSettings
from deployments.engines import load_engine
from deployments.engines.base import Pair
from deployments.http.errors import status_of
from deployments.text.segmentation import SegmentedText


def configured_runner(user_config: dict) -> BatchRunner:
    """A model's runner as the Translator makes it: loaded, then configured in place."""
    settings = TranslatorSettings.model_validate(user_config)
    engine = load_engine(
        settings.models[0],
        "cpu",
        threads=settings.threads,
        encoder_group_size=settings.batching.encoder_group_size,
    )
    runner = BatchRunner(engine, max_batch_tokens=0)
    runner.configure(settings)
    return runner


@pytest.fixture(scope="module")
def translator(phrasebook_checkpoint):
    return configured_runner({"model": str(phrasebook_checkpoint), "device": "cpu", "threads": 2})


@pytest.fixture
def model_inputs(translator, monkeypatch):
    """The input ids of every row the model is asked to translate."""
    rows = []
    model = translator.engine
    original = model.generate

    def spy(input_ids, pair):
        rows.extend(input_ids)
        return original(input_ids, pair)

    monkeypatch.setattr(model, "generate", spy)
    return rows


def test_a_sentence_longer_than_the_model_reads_reaches_it_in_pieces_that_fit(
    translator, model_inputs
):
    words = " ".join(["station"] * 600)  # about 1,200 tokens, the model reads 512
    (outcome,) = translator.run([TextItem(words, "fr")])
    assert isinstance(outcome, SegmentedText)
    limit = translator.engine.max_input_tokens
    assert len(model_inputs) >= 3
    assert all(len(row) <= limit for row in model_inputs)
    # Every word reached the model: the pieces' tokens add up to the whole (less the prefix
    # and end-of-sequence each piece adds).
    pieces = translator.engine.tokenizer.batch_decode(model_inputs, skip_special_tokens=True)
    prefix = translator.engine.pairs[Pair("en", "fr")].prefix
    assert sum(piece.removeprefix(prefix).split().count("station") for piece in pieces) == 600
    assert len(outcome.segments) == len(model_inputs)
    assert outcome.gaps == ("",) + (" ",) * (len(model_inputs) - 1) + ("",)


def test_every_sentence_of_a_paragraph_is_its_own_model_row(translator, model_inputs):
    (outcome,) = translator.run([TextItem("Hello world! Where is the station?", "fr")])
    assert len(model_inputs) == 2
    assert outcome.gaps == ("", " ", "")


def test_expired_items_are_dropped_before_the_model_runs(translator, model_inputs):
    past, future = time.time() - 1, time.time() + 60
    outcomes = translator.run(
        [TextItem("Hello world!", "fr", deadline=past), TextItem("Thank you.", "fr", future)]
    )
    assert isinstance(outcomes[0], DeadlineExceeded)
    assert status_of(outcomes[0]) == 504
    assert isinstance(outcomes[1], SegmentedText)
    assert len(model_inputs) == 1
    assert translator.stats.dropped_expired >= 1


def test_small_model_calls_run_on_one_thread_and_the_rest_on_torch_threads(
    phrasebook_checkpoint, monkeypatch
):
    import torch

    settings = {"model": str(phrasebook_checkpoint), "device": "cpu", "threads": 2}
    replica = configured_runner({**settings, "single_thread_max_texts": 2})
    threads_per_call: list[tuple[int, int]] = []
    original = replica.engine.generate

    def spy(input_ids, pair):
        threads_per_call.append((len(input_ids), torch.get_num_threads()))
        return original(input_ids, pair)

    monkeypatch.setattr(replica.engine, "generate", spy)
    for count in (1, 2, 3, 1):
        replica.run([TextItem("Good night.", "fr")] * count)
    assert threads_per_call == [(1, 1), (2, 1), (3, 2), (1, 1)]
    model = replica.engine
    replica.configure(TranslatorSettings.model_validate({**settings, "single_thread_max_texts": 0}))
    assert replica.engine is model  # applied in place, no reload
    replica.run([TextItem("Good night.", "fr")])
    assert threads_per_call[-1] == (1, 2)


def test_the_encoder_group_size_applies_in_place(phrasebook_checkpoint):
    settings = {"model": str(phrasebook_checkpoint), "device": "cpu"}
    replica = configured_runner(settings)
    model = replica.engine
    assert model.encoder_group_size == 8  # the default, passed through at load
    changed = {**settings, "batching": {"encoder_group_size": 0}}
    replica.configure(TranslatorSettings.model_validate(changed))
    assert replica.engine is model and model.encoder_group_size == 0
