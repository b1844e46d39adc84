"""The Translator deployment: owns the model; one model call at a time, over merged batches."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import ray
import torch
from ray import serve

from deployments.backends import TranslationModel, load_translator
from deployments.errors import PayloadTooLarge, TranslationFailed, UnsupportedTarget
from deployments.length_batching import group_by_length, padding_waste
from deployments.messages import TextItem, TranslatorOutcome
from deployments.scheduling import BatchScheduler
from deployments.segmentation import SegmentedText, split_segments
from deployments.seq2seq import resolve_device
from deployments.settings import TranslatorSettings

logger = logging.getLogger("ray.serve")

WARM_UP_TEXT = "Hello world!"


# Safe defaults for a 2-core machine; configs/*.yaml size it for real. max_ongoing_requests
# must let the ingress's concurrent batches reach the replica, where they merge.
@serve.deployment(ray_actor_options={"num_cpus": 1, "num_gpus": 0}, max_ongoing_requests=64)
class Translator:
    """A list of texts in, a list of outcomes out; the checkpoint and decoding from user_config."""

    def __init__(self) -> None:
        self._settings: TranslatorSettings | None = None
        self._model: TranslationModel | None = None
        self._scheduler = BatchScheduler(self._translate_items)
        self._padded_tokens = 0
        self._real_tokens = 0

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        settings = TranslatorSettings.model_validate(user_config)
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        if self._model is None or settings.load_key() != self._settings.load_key():
            self._model = self._load(settings)
        else:
            self._model.set_decoding(settings.decoding.overrides())
        batching = settings.batching
        self._scheduler.configure(
            max_items=batching.max_batch_size,
            max_wait_s=batching.max_wait_s,
        )
        self._settings = settings

    def _load(self, settings: TranslatorSettings) -> TranslationModel:
        device = resolve_device(settings.device, gpus_assigned=bool(ray.get_gpu_ids()))
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
            "max_input_tokens": model.max_input_tokens,
            "targets": {
                name: {"prefix": t.prefix, **t.generate_kwargs} for name, t in model.targets.items()
            },
            "batching": self._settings.batching.model_dump(),
            "served": {
                "model_calls": stats.calls,
                "texts": stats.items,
                "mean_texts_per_call": stats.items / stats.calls if stats.calls else None,
                "model_busy_s": round(stats.busy_s, 3),
                "padding_waste": padding_waste(self._real_tokens, self._padded_tokens),
            },
        }

    async def translate_batch(self, items: list[TextItem]) -> list[TranslatorOutcome]:
        """One slot per item, in order; merged with other queued batches into one model call."""
        return await self._scheduler.submit(items)

    def _translate_items(self, items: list[TextItem]) -> list[TranslatorOutcome]:
        """Runs in the scheduler's worker thread: every line of every item, grouped by target."""
        model = self._model  # a reconfigure may swap it; this call finishes on the one it began
        threads = self._settings.torch_threads
        if threads and torch.get_num_threads() != threads:
            # OpenMP's thread count is per calling thread: set it here, in the model's worker
            # thread, or generate runs on the OMP_NUM_THREADS Serve set (floor(num_cpus)).
            torch.set_num_threads(threads)
        outcomes: list[TranslatorOutcome | None] = [None] * len(items)
        by_target: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
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
        # Encoded once: the lengths decide refusal and grouping, the ids go to generate.
        input_ids = model.encode([segment for _, segment in lines], target)
        lengths = [len(ids) for ids in input_ids]
        too_long = self._refuse_too_long(model, lines, lengths, outcomes)
        keep = [n for n, (i, _) in enumerate(lines) if i not in too_long]
        translated: dict[int, str] = {}
        failed: set[int] = set()
        groups = group_by_length(
            [lengths[n] for n in keep], self._settings.batching.max_batch_tokens
        )
        for group in groups:
            numbers = [keep[g] for g in group]
            self._real_tokens += sum(lengths[n] for n in numbers)
            self._padded_tokens += len(numbers) * max(lengths[n] for n in numbers)
            group_ids = [input_ids[n] for n in numbers]
            try:
                outputs = model.translate_encoded(group_ids, target)
                translated.update(zip(numbers, outputs, strict=True))
            except Exception:
                logger.exception(
                    "generate failed on %d lines; retrying them one by one", len(numbers)
                )
                for n in numbers:  # find the culprit, so only its text fails
                    try:
                        (translated[n],) = model.translate_encoded([input_ids[n]], target)
                    except Exception:
                        logger.exception("generate failed on one line")
                        failed.add(lines[n][0])
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

    @staticmethod
    def _refuse_too_long(model, lines, lengths, outcomes) -> set[int]:
        """A line the model cannot read whole is refused, never silently truncated."""
        limit = model.max_input_tokens
        refused: set[int] = set()
        if limit is None:
            return refused
        for (i, _), length in zip(lines, lengths, strict=True):
            if length > limit and i not in refused:
                refused.add(i)
                outcomes[i] = PayloadTooLarge(
                    f"a line of this text is {length} tokens long; the model reads at most {limit}",
                    limit=limit,
                    actual=length,
                    unit="tokens",
                )
        return refused
