"""The model thread's work (BatchRunner) with a fake engine: pure logic, no Ray, no model."""

import asyncio

from deployments.batching.runner import MAX_RESPLITS, BatchRunner
from deployments.batching.scheduler import BatchScheduler
from deployments.core.errors import TranslationFailed, UnsupportedTarget
from deployments.core.messages import TextItem, TranslatedText
from deployments.core.settings import TranslatorSettings
from deployments.engines.base import Generated, Pair
from deployments.engines.decoding import PairDecoding

ENGLISH_TO_FRENCH = Pair("en", "fr")


class FakeEngine:
    """Translates by upper-casing. A line of more than ``finishes_within`` characters "reaches
    the decoding limit": its output is cut to that many characters and not finished. A batch
    that holds ``fail_on`` raises, as a model can."""

    engine = "fake"
    model_name = "fake"
    device = "cpu"
    dtype = None
    compute_type = None
    encoder_group_size = 0
    max_input_tokens = None
    threads = 1

    def __init__(self, finishes_within: int = 1000, fail_on: str | None = None) -> None:
        self.pairs = {ENGLISH_TO_FRENCH: PairDecoding(ENGLISH_TO_FRENCH)}
        self.finishes_within = finishes_within
        self.fail_on = fail_on
        self.calls: list[list[str]] = []

    def set_threads(self, threads: int) -> None:
        pass

    def set_decoding(self, overrides) -> None:
        pass

    def encode(self, texts, pair):
        # One "token" per character keeps the text recoverable from its ids.
        return [[ord(c) for c in text] for text in texts]

    def count_tokens(self, texts, pair):
        return [len(text) for text in texts]

    def generate(self, input_ids, pair):
        texts = ["".join(map(chr, ids)) for ids in input_ids]
        self.calls.append(texts)
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("the model failed")
        limit = self.finishes_within
        return [Generated(text.upper()[:limit], len(text) <= limit) for text in texts]

    def translate_encoded(self, input_ids, pair):
        return [generated.text for generated in self.generate(input_ids, pair)]

    def translate(self, texts, pair):
        return self.translate_encoded(self.encode(texts, pair), pair)


def runner(engine: FakeEngine) -> BatchRunner:
    return BatchRunner(engine, max_batch_tokens=100_000)


def test_a_line_cut_at_the_decoding_limit_is_translated_again_in_halves():
    engine = FakeEngine(finishes_within=12)
    work = runner(engine)
    (outcome,) = work.run([TextItem("one two three four", "fr")])  # 18 characters
    assert outcome == TranslatedText(("ONE TWO THREE FOUR",), ("", ""), truncated=False)
    # pieces of at most half the line, cut at spaces
    assert engine.calls[-1] == ["one two", "three", "four"]
    assert (work.stats.resplit_lines, work.stats.truncated_lines) == (1, 0)


def test_halves_that_still_do_not_finish_are_halved_again():
    engine = FakeEngine(finishes_within=5)
    work = runner(engine)
    (outcome,) = work.run([TextItem("aaaa bbbb cccc dddd", "fr")])
    assert isinstance(outcome, TranslatedText)
    assert outcome.segments == ("AAAA BBBB CCCC DDDD",) and not outcome.truncated


def test_what_cannot_finish_even_in_pieces_is_flagged_not_returned_silently_cut():
    engine = FakeEngine(finishes_within=1)
    work = runner(engine)
    ok, cut = work.run([TextItem("a", "fr"), TextItem("abcdefghijklmnopqrstuvwxyz" * 2, "fr")])
    assert ok == TranslatedText(("A",), ("", ""), truncated=False)
    assert isinstance(cut, TranslatedText) and cut.truncated
    assert work.stats.truncated_lines >= 1
    # it was halved MAX_RESPLITS times before giving up: pieces of 52 / 2**3 characters
    assert min(len(text) for call in engine.calls for text in call) <= 52 // 2**MAX_RESPLITS + 1


def test_a_failing_text_fails_alone_inside_a_merged_model_call():
    engine = FakeEngine(fail_on="poison")
    work = runner(engine)

    async def main():
        scheduler = BatchScheduler(work.run, max_items=8, max_wait_s=0.2)
        first = scheduler.submit([TextItem("warm", "fr")])
        await first  # the next three arrive while nothing runs: one merged call
        return await asyncio.gather(
            scheduler.submit([TextItem("good", "fr")]),
            scheduler.submit([TextItem("poison", "fr")]),
            scheduler.submit([TextItem("fine", "fr"), TextItem("also", "fr")]),
        )

    good, bad, fine = asyncio.run(main())
    # one model call held all four texts, and failed; then each text went alone
    assert sorted(engine.calls[1]) == ["also", "fine", "good", "poison"]
    assert good == [TranslatedText(("GOOD",), ("", ""))]
    assert fine == [TranslatedText(("FINE",), ("", "")), TranslatedText(("ALSO",), ("", ""))]
    (failed,) = bad
    assert isinstance(failed, TranslationFailed)


def test_texts_are_grouped_by_pair_and_an_unoffered_pair_fails_alone():
    engine = FakeEngine()
    german = Pair("de", "fr")
    engine.pairs[german] = PairDecoding(german)
    calls = []
    work = BatchRunner(engine, max_batch_tokens=100_000, on_call=calls.append)
    english, from_german, to_spanish, from_spanish = work.run(
        [
            TextItem("hello", "fr"),
            TextItem("hallo", "fr", source="de"),
            TextItem("hi", "es"),
            TextItem("hola", "fr", source="es"),
        ]
    )
    assert english == TranslatedText(("HELLO",), ("", ""))
    assert from_german == TranslatedText(("HALLO",), ("", ""))
    assert [call.pair for call in calls] == [ENGLISH_TO_FRENCH, german]
    assert isinstance(to_spanish, UnsupportedTarget)
    assert str(to_spanish) == "target 'es' is not supported; supported: fr"
    assert isinstance(from_spanish, UnsupportedTarget)
    assert str(from_spanish) == "no translation from 'es'; the model translates en-fr, de-fr"


def test_configure_applies_the_translators_settings_in_place():
    engine = FakeEngine()
    model = runner(engine)
    settings = TranslatorSettings(
        model="m",
        threads=3,
        single_thread_max_texts=2,
        batching={"max_batch_tokens": 1024, "encoder_group_size": 4},
    )
    model.configure(settings)
    assert (model.engine, model.threads, model.single_thread_max_texts) == (engine, 3, 2)
    assert (model.max_batch_tokens, engine.encoder_group_size) == (1024, 4)
