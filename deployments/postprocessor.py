"""The postprocessing deployment: tidy and typeset each translation, restore the layout."""

from __future__ import annotations

import logging
from typing import Any

from ray import serve

from deployments.core.errors import TranslationServiceError
from deployments.core.messages import (
    FinalOutcome,
    FinishedBatch,
    TextItem,
    TranslatedBatch,
    TranslatedText,
    TranslatorOutcome,
)
from deployments.core.settings import PostprocessorSettings
from deployments.text.segmentation import reassemble
from deployments.text.typography import postprocess_segment

logger = logging.getLogger("ray.serve")


@serve.deployment(
    ray_actor_options={"num_cpus": 0.25, "num_gpus": 0},
    max_ongoing_requests=64,
    max_queued_requests=128,
)
class Postprocessor:
    def __init__(self) -> None:
        self._settings = PostprocessorSettings()

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self._settings = PostprocessorSettings.model_validate(user_config)

    def ping(self) -> bool:
        return True

    def process_batch(self, items: list[TextItem], translated: TranslatedBatch) -> FinishedBatch:
        outcomes = [
            self._finish(item, outcome)
            for item, outcome in zip(items, translated.outcomes, strict=True)
        ]
        # One line per batch, naming its requests: grep a request id to follow it through.
        logger.info(
            "finished %d texts; requests %s",
            len(items),
            ",".join(dict.fromkeys(item.request_id for item in items)),
        )
        truncated = frozenset(
            index
            for index, outcome in enumerate(translated.outcomes)
            if isinstance(outcome, TranslatedText) and outcome.truncated
        )
        return FinishedBatch(outcomes, translated.queue_s, translated.model_s, truncated)

    def _finish(self, item: TextItem, outcome: TranslatorOutcome) -> FinalOutcome:
        if isinstance(outcome, TranslationServiceError):
            return outcome
        segments = [
            postprocess_segment(s, item.target, typography=self._settings.french_typography)
            for s in outcome.segments
        ]
        return reassemble(outcome.gaps, segments)
