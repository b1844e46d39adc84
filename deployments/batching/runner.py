"""One model call's worth of texts run on an engine: what the Translator's model thread does.

Texts whose deadline has passed are dropped unrun; the rest are split into sentences, grouped
by language pair, cut to fit the model, sorted by length into token-bounded groups, and
translated. A failure that belongs to one text becomes that text's outcome, never its
neighbours'. No Ray.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from deployments.batching.lengths import group_by_length
from deployments.core.errors import DeadlineExceeded, TranslationFailed, UnsupportedTarget
from deployments.core.messages import TextItem, TranslatedText, TranslatorOutcome
from deployments.core.settings import TranslatorSettings
from deployments.engines.base import Engine, Generated, Pair
from deployments.text.segmentation import (
    SegmentedText,
    reassemble,
    splice,
    split_segments,
    split_to_fit,
)

logger = logging.getLogger("ray.serve")

# A line whose translation reaches the decoding limit is translated again in halves, then
# quarters...: at most this many times, before its translation is flagged as truncated.
MAX_RESPLITS = 3


@dataclass(frozen=True)
class ModelCall:
    """One language pair's share of a model call, for metrics."""

    pair: Pair
    texts: int
    real_tokens: int
    padded_tokens: int
    seconds: float


@dataclass
class RunnerStats:
    real_tokens: int = 0
    padded_tokens: int = 0
    dropped_expired: int = 0
    # Lines whose translation reached the decoding limit: translated again in pieces, and
    # those still unfinished then (flagged truncated).
    resplit_lines: int = 0
    truncated_lines: int = 0


class BatchRunner:
    """Runs lists of ``TextItem`` on one engine; ``on_call`` sees each pair's model call."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch_tokens: int,
        threads: int | None = None,
        single_thread_max_texts: int = 0,
        on_call: Callable[[ModelCall], None] = lambda call: None,
    ) -> None:
        self.engine = engine
        self.max_batch_tokens = max_batch_tokens
        self.threads = threads
        self.single_thread_max_texts = single_thread_max_texts
        self.on_call = on_call
        self.stats = RunnerStats()

    def configure(self, settings: TranslatorSettings) -> None:
        """The Translator's settings that apply in place, without a reload (a model alone in
        benchmarks/model_process.py runs with the same)."""
        batching = settings.batching
        self.engine.encoder_group_size = batching.encoder_group_size
        self.max_batch_tokens = batching.max_batch_tokens
        self.threads = settings.threads
        self.single_thread_max_texts = settings.single_thread_max_texts

    def run(self, items: list[TextItem]) -> list[TranslatorOutcome]:
        """One outcome per item, in order."""
        engine = self.engine
        outcomes: list[TranslatorOutcome | None] = [None] * len(items)
        self._drop_expired(items, range(len(items)), outcomes)
        by_pair: dict[Pair, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            if outcomes[index] is not None:
                continue
            pair = Pair(item.source, item.target)
            if pair in engine.pairs:
                by_pair[pair].append(index)
            else:
                outcomes[index] = unsupported(pair, engine.pairs)
        for pair, indices in by_pair.items():
            self._translate_pair(items, indices, pair, outcomes)
        finished = [outcome for outcome in outcomes if outcome is not None]
        if len(finished) != len(items):
            raise RuntimeError("a text was left without an outcome")  # a bug, not bad input
        return finished

    def _set_threads(self, texts: int) -> None:
        """Threads for a model call of ``texts`` texts (``single_thread_max_texts``); called in
        the model's thread, since OpenMP's thread count is per calling thread."""
        threads = self.threads
        if threads and texts <= self.single_thread_max_texts:
            threads = 1
        if threads:
            self.engine.set_threads(threads)

    def _drop_expired(
        self,
        items: list[TextItem],
        indices: Iterable[int],
        outcomes: list[TranslatorOutcome | None],
    ) -> None:
        """Items whose deadline has passed get DeadlineExceeded instead of model time."""
        now = time.time()
        expired = {
            i
            for i in indices
            if outcomes[i] is None
            and (deadline := items[i].deadline) is not None
            and deadline <= now
        }
        for i in expired:
            outcomes[i] = DeadlineExceeded(
                "the request's deadline passed while it waited for the model; it was not run"
            )
        self.stats.dropped_expired += len(expired)

    def _translate_pair(
        self,
        items: list[TextItem],
        indices: list[int],
        pair: Pair,
        outcomes: list[TranslatorOutcome | None],
    ) -> None:
        engine = self.engine
        split = {i: split_segments(items[i].text) for i in indices}
        lines = [(i, segment) for i in indices for segment in split[i].segments]
        # Encoded once: the lengths decide grouping, the ids go to the model.
        input_ids = engine.encode([segment for _, segment in lines], pair)
        if self._fit_to_model(pair, split, lines, input_ids):
            lines = [(i, segment) for i in indices for segment in split[i].segments]
            input_ids = engine.encode([segment for _, segment in lines], pair)
        lengths = [len(ids) for ids in input_ids]
        translated: dict[int, Generated] = {}
        failed: set[int] = set()
        real_tokens = padded_tokens = 0
        started = time.monotonic()
        for group in group_by_length(lengths, self.max_batch_tokens):
            # A long text's later groups may run past its deadline: check before each call.
            self._drop_expired(items, {lines[n][0] for n in group}, outcomes)
            numbers = [n for n in group if outcomes[lines[n][0]] is None]
            if not numbers:
                continue
            real_tokens += sum(lengths[n] for n in numbers)
            padded_tokens += len(numbers) * max(lengths[n] for n in numbers)
            self._set_threads(len(numbers))
            try:
                outputs = engine.generate([input_ids[n] for n in numbers], pair)
                translated.update(zip(numbers, outputs, strict=True))
            except Exception:
                logger.exception(
                    "the model failed on %d lines; retrying them one by one", len(numbers)
                )
                self._set_threads(1)
                for n in numbers:  # find the culprit, so that only its text fails
                    try:
                        (translated[n],) = engine.generate([input_ids[n]], pair)
                    except Exception:
                        logger.exception("the model failed on one line")
                        failed.add(lines[n][0])
        for n, generated in list(translated.items()):
            if not generated.finished and lines[n][0] not in failed:
                try:
                    translated[n] = self._in_pieces(lines[n][1], generated, pair)
                    self.stats.truncated_lines += not translated[n].finished
                except Exception:
                    logger.exception("the model failed on the pieces of a cut line")
                    failed.add(lines[n][0])
        self.stats.real_tokens += real_tokens
        self.stats.padded_tokens += padded_tokens
        if padded_tokens:  # else every text had expired and the model never ran
            seconds = time.monotonic() - started
            self.on_call(ModelCall(pair, len(indices), real_tokens, padded_tokens, seconds))
        position: dict[int, list[str]] = defaultdict(list)
        cut: set[int] = set()
        for n, (i, _) in enumerate(lines):
            if n in translated:
                position[i].append(translated[n].text)
                if not translated[n].finished:
                    cut.add(i)
        for i in indices:
            if outcomes[i] is not None:
                continue
            if i in failed:
                outcomes[i] = TranslationFailed("the model failed on this text")
            else:
                outcomes[i] = TranslatedText(tuple(position[i]), split[i].gaps, truncated=i in cut)

    def _in_pieces(self, line: str, cut: Generated, pair: Pair, depth: int = 0) -> Generated:
        """``line``, whose translation ``cut`` reached the decoding limit, translated again as
        two halves (cut at the space nearest the middle), a piece that still does not finish
        halved again, at most MAX_RESPLITS times; what stays unfinished is flagged."""
        if depth == 0:
            self.stats.resplit_lines += 1
        pieces = split_to_fit(line, lambda piece: len(piece) <= max(1, len(line) // 2))
        if depth >= MAX_RESPLITS or len(pieces.segments) < 2:
            return cut
        engine = self.engine
        outputs = engine.generate(engine.encode(list(pieces.segments), pair), pair)
        outputs = [
            generated if generated.finished else self._in_pieces(piece, generated, pair, depth + 1)
            for piece, generated in zip(pieces.segments, outputs, strict=True)
        ]
        text = reassemble(pieces.gaps, [generated.text for generated in outputs])
        return Generated(text, all(generated.finished for generated in outputs))

    def _fit_to_model(
        self,
        pair: Pair,
        split: dict[int, SegmentedText],
        lines: list[tuple[int, str]],
        input_ids: list[list[int]],
    ) -> bool:
        """Cut every sentence longer than the model reads into pieces that fit (in ``split``),
        which the model would otherwise truncate silently. Returns whether anything was cut."""
        engine = self.engine
        limit = engine.max_input_tokens
        too_long = [n for n, ids in enumerate(input_ids) if limit and len(ids) > limit]
        if not limit or not too_long:
            return False

        def fits(piece: str) -> bool:
            return engine.count_tokens([piece], pair)[0] <= limit

        # Right to left, so that splicing one segment does not shift the next one's index.
        for n in reversed(too_long):
            i, segment = lines[n]
            first = next(k for k, (j, _) in enumerate(lines) if j == i)
            split[i] = splice(split[i], n - first, split_to_fit(segment, fits))
        return True


def unsupported(pair: Pair, pairs: Collection[Pair]) -> UnsupportedTarget:
    """The error of a text whose pair the model does not offer: names the targets there are
    from its source (the API's callers choose a target, not yet a source)."""
    targets = [p.target for p in pairs if p.source == pair.source]
    if targets:
        message = f"target {pair.target!r} is not supported; supported: {', '.join(targets)}"
    else:
        offered = ", ".join(p.key for p in pairs)
        message = f"no translation from {pair.source!r}; the model translates {offered}"
    return UnsupportedTarget(message, target=pair.target, supported=targets)
