"""The Translator deployment: owns the model, translates a whole batch per call."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import ray
import torch
from ray import serve

from deployments.errors import PayloadTooLarge, TranslationFailed, UnsupportedTarget
from deployments.messages import TextItem, TranslatorOutcome
from deployments.segmentation import SegmentedText, split_segments
from deployments.seq2seq import Seq2SeqTranslator, resolve_device
from deployments.settings import TranslatorSettings

logger = logging.getLogger("ray.serve")

WARM_UP_TEXT = "Hello world!"


# Safe defaults for a 2-core machine; configs/*.yaml size it for real.
@serve.deployment(ray_actor_options={"num_cpus": 1, "num_gpus": 0}, max_ongoing_requests=2)
class Translator:
    """A list of texts in, a list of outcomes out; the checkpoint and decoding from user_config."""

    def __init__(self) -> None:
        self._settings: TranslatorSettings | None = None
        self._model: Seq2SeqTranslator | None = None

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        settings = TranslatorSettings.model_validate(user_config)
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        if self._model is None or settings.load_key() != self._settings.load_key():
            self._model = self._load(settings)
        else:
            self._model.set_decoding(settings.decoding.overrides())
        self._settings = settings

    def _load(self, settings: TranslatorSettings) -> Seq2SeqTranslator:
        device = resolve_device(settings.device, gpus_assigned=bool(ray.get_gpu_ids()))
        model = Seq2SeqTranslator(
            settings.model,
            device=device,
            dtype=settings.dtype,
            decoding_overrides=settings.decoding.overrides(),
        )
        # Warm up before Serve marks the replica ready: the first generate pays for lazy init.
        model.translate([WARM_UP_TEXT], next(iter(model.targets)))
        logger.info("Translator loaded %s on %s (%s)", settings.model, device, settings.dtype)
        return model

    def describe(self) -> dict[str, Any]:
        """What /health reports: the checkpoint, its targets and how each decodes."""
        model = self._model
        return {
            "model": model.model_name,
            "device": str(model.device),
            "dtype": model.dtype,
            "max_input_tokens": model.max_input_tokens,
            "targets": {
                name: {"prefix": t.prefix, **t.generate_kwargs} for name, t in model.targets.items()
            },
        }

    def translate_batch(self, items: list[TextItem]) -> list[TranslatorOutcome]:
        outcomes: list[TranslatorOutcome | None] = [None] * len(items)
        by_target: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            if item.target in self._model.targets:
                by_target[item.target].append(index)
            else:
                outcomes[index] = UnsupportedTarget(
                    f"target {item.target!r} is not supported; supported: "
                    f"{', '.join(self._model.targets)}",
                    target=item.target,
                    supported=list(self._model.targets),
                )
        for target, indices in by_target.items():
            self._translate_group(items, indices, target, outcomes)
        return outcomes

    def _translate_group(
        self,
        items: list[TextItem],
        indices: list[int],
        target: str,
        outcomes: list[TranslatorOutcome | None],
    ) -> None:
        """One ``generate`` for every segment of every text of one target."""
        split = {i: split_segments(items[i].text) for i in indices}
        indices = [i for i in indices if not self._too_long(split[i], target, i, outcomes)]
        segments = [segment for i in indices for segment in split[i].segments]
        try:
            translated = self._model.translate(segments, target)
        except Exception:
            logger.exception("generate failed on a batch of %d segments", len(segments))
            translated = None
        if translated is None:
            # Find the culprit: each text alone, so only the bad one fails.
            for i in indices:
                outcomes[i] = self._translate_alone(split[i], target)
            return
        position = 0
        for i in indices:
            count = len(split[i].segments)
            outcomes[i] = SegmentedText(
                tuple(translated[position : position + count]), split[i].gaps
            )
            position += count

    def _translate_alone(self, text: SegmentedText, target: str) -> TranslatorOutcome:
        try:
            return SegmentedText(tuple(self._model.translate(text.segments, target)), text.gaps)
        except Exception as error:
            logger.exception("generate failed on one text")
            return TranslationFailed(f"the model failed on this text: {type(error).__name__}")

    def _too_long(self, text: SegmentedText, target: str, index: int, outcomes: list) -> bool:
        """A segment the model cannot read whole is refused, never silently truncated."""
        limit = self._model.max_input_tokens
        if limit is None or not text.segments:
            return False
        longest = max(self._model.count_tokens(text.segments, target))
        if longest <= limit:
            return False
        outcomes[index] = PayloadTooLarge(
            f"a line of this text is {longest} tokens long; the model reads at most {limit}",
            limit=limit,
            actual=longest,
            unit="tokens",
        )
        return True
