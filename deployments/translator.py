"""The Translator deployment: owns the model; one model call at a time, over merged batches."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

import ray
import torch
from ray import serve

from deployments.backends import TranslationModel, load_translator
from deployments.errors import (
    DeadlineExceeded,
    TranslationFailed,
    TranslationServiceError,
    UnsupportedTarget,
)
from deployments.length_batching import group_by_length, padding_waste
from deployments.messages import TextItem, TranslatedBatch, TranslatorOutcome
from deployments.metrics import Metrics
from deployments.observability import target_tag
from deployments.scheduling import BatchScheduler
from deployments.segmentation import SegmentedText, splice, split_segments, split_to_fit
from deployments.seq2seq import resolve_device
from deployments.settings import TranslatorSettings
from deployments.thread_priority import calling_thread_policy, make_calling_thread_realtime

logger = logging.getLogger("ray.serve")

WARM_UP_TEXT = "Hello world!"


# Safe defaults for a 2-core machine; configs/*.yaml size it for real. max_ongoing_requests
# must let the ingress's concurrent batches reach the replica, where they merge.
@serve.deployment(
    ray_actor_options={"num_cpus": 1, "num_gpus": 0},
    max_ongoing_requests=64,
    max_queued_requests=64,
)
class Translator:
    """A list of texts in, a list of outcomes out; the checkpoint and decoding from user_config."""

    def __init__(self) -> None:
        self._settings: TranslatorSettings | None = None
        self._model: TranslationModel | None = None
        self._scheduler = BatchScheduler(self._translate_items)
        self._padded_tokens = 0
        self._real_tokens = 0
        self._dropped_expired = 0
        # The model thread's scheduling policy as it is (realtime_model_thread asks for fifo).
        self._model_thread_policy: str | None = None
        self._metrics = Metrics(
            "translation_batch_texts",
            "translation_batch_padded_tokens",
            "translation_input_tokens",
            "translation_model_seconds",
            "translation_queue_wait_seconds",
            "translation_texts_translated",
            "translation_errors",
        )

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        settings = TranslatorSettings.model_validate(user_config)
        reload = self._model is None or settings.load_key() != self._settings.load_key()
        if reload:
            self._model = self._load(settings)
        else:
            self._model.set_decoding(settings.decoding.overrides())
        if reload or settings.realtime_model_thread != self._settings.realtime_model_thread:
            # A new thread either way (see there: OpenMP pools live per thread, and inherit the
            # scheduling policy of the thread that starts them).
            setup = self._realtime_setup if settings.realtime_model_thread else self._plain_setup
            self._scheduler.renew_worker_thread(setup)
        batching = settings.batching
        self._model.encoder_group_size = batching.encoder_group_size
        self._scheduler.configure(
            max_items=batching.max_batch_size,
            max_wait_s=batching.max_wait_s,
        )
        self._settings = settings

    def _realtime_setup(self) -> None:
        """Runs in a new model thread before its first call."""
        self._model_thread_policy = make_calling_thread_realtime()

    def _plain_setup(self) -> None:
        self._model_thread_policy = calling_thread_policy()

    def _load(self, settings: TranslatorSettings) -> TranslationModel:
        gpus_assigned = settings.device == "auto" and bool(ray.get_gpu_ids())
        device = resolve_device(settings.device, gpus_assigned=gpus_assigned)
        model = load_translator(settings, device)
        # Warm up before Serve marks the replica ready: the first generate pays for lazy init.
        model.translate([WARM_UP_TEXT], next(iter(model.targets)))
        logger.info(
            "Translator loaded %s on %s (%s %s)",
            model.model_name,
            device,
            model.backend,
            model.dtype,
        )
        return model

    def describe(self) -> dict[str, Any]:
        """What /health and /info report: the checkpoint, its targets, how it batches."""
        model = self._model
        stats = self._scheduler.stats()
        return {
            "model": model.model_name,
            "device": str(model.device),
            "dtype": model.dtype,
            "backend": model.backend,
            "compute_type": model.compute_type,
            "torch_threads": self._settings.torch_threads or torch.get_num_threads(),
            "single_thread_max_texts": self._settings.single_thread_max_texts,
            "model_thread_policy": self._model_thread_policy,
            "max_input_tokens": model.max_input_tokens,
            "targets": {
                name: {"prefix": t.prefix, **t.generate_kwargs} for name, t in model.targets.items()
            },
            "batching": self._settings.batching.model_dump(),
            "served": {
                "model_calls": stats.calls,
                "texts": stats.items,
                "queued_texts": stats.queued_items,
                "mean_texts_per_call": stats.items / stats.calls if stats.calls else None,
                "model_busy_s": round(stats.busy_s, 3),
                "padding_waste": padding_waste(self._real_tokens, self._padded_tokens),
                # Dropped before the model ran them: deadline passed, or the caller had gone.
                "dropped_expired": self._dropped_expired,
                "dropped_cancelled": stats.dropped_items,
            },
        }

    async def translate_batch(self, items: list[TextItem]) -> TranslatedBatch:
        """One slot per item, in order; merged with other queued batches into one model call."""
        done = await self._scheduler.submit_timed(items)
        self._observe_batch(items, done.results, done.queued_s, done.run_s)
        return TranslatedBatch(done.results, done.queued_s, done.run_s)

    def _observe_batch(self, items, outcomes, queue_s: float, model_s: float) -> None:
        """Metrics and one log line per batch (not per text: this runs on the hot path)."""
        known = self._model.targets
        metrics = self._metrics
        translated: dict[str, int] = defaultdict(int)
        errors: dict[tuple[str, str], int] = defaultdict(int)
        for item, outcome in zip(items, outcomes, strict=True):
            tag = target_tag(item.target, known)
            if isinstance(outcome, TranslationServiceError):
                errors[tag, outcome.code] += 1
            else:
                translated[tag] += 1
        for tag in {target_tag(item.target, known) for item in items}:
            metrics.queue_wait_seconds.observe(queue_s, tags={"target": tag})
        for tag, count in translated.items():
            metrics.texts_translated.inc(count, tags={"target": tag})
        for (tag, code), count in errors.items():
            metrics.errors.inc(count, tags={"target": tag, "code": code, "stage": "translator"})
        logger.info(
            "batch of %d texts: queued %.3f s, model %.3f s, %d failed; requests %s",
            len(items),
            queue_s,
            model_s,
            sum(errors.values()),
            ",".join(dict.fromkeys(item.request_id for item in items)),
        )

    def _translate_items(self, items: list[TextItem]) -> list[TranslatorOutcome]:
        """Runs in the scheduler's worker thread: every line of every item, grouped by target."""
        model = self._model  # a reconfigure may swap it; this call finishes on the one it began
        outcomes: list[TranslatorOutcome | None] = [None] * len(items)
        self._drop_expired(items, range(len(items)), outcomes)
        by_target: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            if outcomes[index] is not None:
                continue
            if item.target in model.targets:
                by_target[item.target].append(index)
            else:
                outcomes[index] = UnsupportedTarget(
                    f"target {item.target!r} is not supported; supported: "
                    f"{', '.join(model.targets)}",
                    target=item.target,
                    supported=list(model.targets),
                )
        for target, indices in by_target.items():
            self._translate_target(model, items, indices, target, outcomes)
        return outcomes

    def _set_threads(self, texts: int) -> None:
        """torch's thread count for a generate call of ``texts`` texts (single_thread_max_texts).

        OpenMP's thread count is per calling thread: it is set here, in the model's worker
        thread, or generate runs on the OMP_NUM_THREADS Serve set (floor(num_cpus)).
        """
        threads = self._settings.torch_threads
        if threads and texts <= self._settings.single_thread_max_texts:
            threads = 1
        if threads and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def _drop_expired(self, items, indices, outcomes) -> set[int]:
        """Items whose deadline has passed get DeadlineExceeded instead of model time."""
        now = time.time()
        expired = {
            i
            for i in indices
            if outcomes[i] is None and items[i].deadline is not None and items[i].deadline <= now
        }
        for i in expired:
            outcomes[i] = DeadlineExceeded(
                "the request's deadline passed while it waited for the model; it was not run"
            )
        self._dropped_expired += len(expired)
        return expired

    def _translate_target(
        self,
        model: TranslationModel,
        items: list[TextItem],
        indices: list[int],
        target: str,
        outcomes: list[TranslatorOutcome | None],
    ) -> None:
        split = {i: split_segments(items[i].text) for i in indices}
        lines = [(i, segment) for i in indices for segment in split[i].segments]
        # Encoded once: the lengths decide grouping, the ids go to generate.
        input_ids = model.encode([segment for _, segment in lines], target)
        if self._fit_to_model(model, target, split, lines, input_ids):
            lines = [(i, segment) for i in indices for segment in split[i].segments]
            input_ids = model.encode([segment for _, segment in lines], target)
        lengths = [len(ids) for ids in input_ids]
        translated: dict[int, str] = {}
        failed: set[int] = set()
        real_tokens = padded_tokens = 0
        started = time.monotonic()
        for group in group_by_length(lengths, self._settings.batching.max_batch_tokens):
            # A long text's later groups may run past its deadline: check before each generate.
            self._drop_expired(items, {lines[n][0] for n in group}, outcomes)
            numbers = [n for n in group if outcomes[lines[n][0]] is None]
            if not numbers:
                continue
            real_tokens += sum(lengths[n] for n in numbers)
            padded_tokens += len(numbers) * max(lengths[n] for n in numbers)
            group_ids = [input_ids[n] for n in numbers]
            self._set_threads(len(group_ids))
            try:
                outputs = model.translate_encoded(group_ids, target)
                translated.update(zip(numbers, outputs, strict=True))
            except Exception:
                logger.exception(
                    "generate failed on %d lines; retrying them one by one", len(numbers)
                )
                self._set_threads(1)
                for n in numbers:  # find the culprit, so only its text fails
                    try:
                        (translated[n],) = model.translate_encoded([input_ids[n]], target)
                    except Exception:
                        logger.exception("generate failed on one line")
                        failed.add(lines[n][0])
        self._observe_call(target, len(indices), real_tokens, padded_tokens, started)
        position: dict[int, list[str]] = defaultdict(list)
        for n, (i, _) in enumerate(lines):
            if n in translated:
                position[i].append(translated[n])
        for i in indices:
            if outcomes[i] is not None:
                continue
            if i in failed:
                outcomes[i] = TranslationFailed("the model failed on this text")
            else:
                outcomes[i] = SegmentedText(tuple(position[i]), split[i].gaps)

    def _observe_call(self, target, texts, real_tokens, padded_tokens, started) -> None:
        """One target's share of a model call: its texts, tokens and generate time."""
        self._real_tokens += real_tokens
        self._padded_tokens += padded_tokens
        if not padded_tokens:  # every text had expired: generate never ran
            return
        metrics, tags = self._metrics, {"target": target}
        metrics.batch_texts.observe(texts, tags=tags)
        metrics.batch_padded_tokens.observe(padded_tokens, tags=tags)
        metrics.input_tokens.inc(real_tokens, tags={**tags, "kind": "real"})
        metrics.input_tokens.inc(padded_tokens, tags={**tags, "kind": "padded"})
        metrics.model_seconds.observe(time.monotonic() - started, tags=tags)

    @staticmethod
    def _fit_to_model(model, target, split, lines, input_ids) -> bool:
        """Cut every sentence longer than the model reads into pieces that fit (in ``split``).

        The model would silently truncate it; cut pieces are translated in the same batches
        and put back with their original spaces. Returns whether anything was cut.
        """
        limit = model.max_input_tokens
        too_long = [n for n, ids in enumerate(input_ids) if limit and len(ids) > limit]
        if not too_long:
            return False

        def fits(piece: str) -> bool:
            return model.count_tokens([piece], target)[0] <= limit

        # Right to left, so that splicing one segment does not shift the next one's index.
        for n in reversed(too_long):
            i, segment = lines[n]
            index = next(k for k, (j, _) in enumerate(lines) if j == i)
            split[i] = splice(split[i], n - index, split_to_fit(segment, fits))
        return True
