"""The Translator deployment: owns the model; one model call at a time, over merged batches."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import ray
from ray import serve

from deployments.batching.lengths import padding_waste
from deployments.batching.runner import BatchRunner, ModelCall
from deployments.batching.scheduler import BatchScheduler
from deployments.core.errors import TranslationServiceError
from deployments.core.messages import API_SOURCE, TextItem, TranslatedBatch, TranslatorOutcome
from deployments.core.metrics import TranslatorMetrics
from deployments.core.observability import target_tag
from deployments.core.settings import TranslatorSettings
from deployments.engines import load_engine, resolve_device

logger = logging.getLogger("ray.serve")

# The error code a translation that may be cut is counted under (it is still answered, flagged).
TRUNCATED = "truncated"


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
        self._settings = TranslatorSettings()
        self._runner: BatchRunner | None = None
        self._scheduler = BatchScheduler(self._run)
        self._metrics = TranslatorMetrics()

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        settings = TranslatorSettings.model_validate(user_config)
        runner = self._runner
        if runner is None or settings.load_key() != self._settings.load_key():
            gpus_assigned = settings.device == "auto" and bool(ray.get_gpu_ids())
            device = resolve_device(settings.device, gpus_assigned=gpus_assigned)
            engine = load_engine(settings, device)
            logger.info("Translator loaded %s on %s (%s)", engine.model_name, device, engine.engine)
            runner = BatchRunner(engine, max_batch_tokens=0, on_call=self._observe_call)
            # A new model thread for a new engine: OpenMP pools live per thread.
            self._scheduler.renew_worker_thread()
        else:
            runner.engine.set_decoding(settings.decoding.overrides())
        batching = settings.batching
        runner.engine.encoder_group_size = batching.encoder_group_size
        runner.max_batch_tokens = batching.max_batch_tokens
        runner.threads = settings.threads
        runner.single_thread_max_texts = settings.single_thread_max_texts
        self._scheduler.configure(max_items=batching.max_batch_size, max_wait_s=batching.max_wait_s)
        self._runner, self._settings = runner, settings

    def describe(self) -> dict[str, Any]:
        """What /health and /info report: the checkpoint, its targets (from the API's source
        language, English) and every pair it offers, how it batches."""
        runner = self._require_runner()
        engine, stats, served = runner.engine, self._scheduler.stats(), runner.stats
        return {
            "model": engine.model_name,
            "device": engine.device,
            "engine": engine.engine,
            "dtype": engine.dtype,
            "compute_type": engine.compute_type,
            "threads": self._settings.threads or engine.threads,
            "single_thread_max_texts": self._settings.single_thread_max_texts,
            "max_input_tokens": engine.max_input_tokens,
            "family": engine.family,
            "targets": {
                pair.target: {"prefix": d.prefix, **d.generate_kwargs}
                for pair, d in engine.pairs.items()
                if pair.source == API_SOURCE
            },
            "pairs": [pair.key for pair in engine.pairs],
            "batching": self._settings.batching.model_dump(),
            "served": {
                "model_calls": stats.calls,
                "texts": stats.items,
                "queued_texts": stats.queued_items,
                "mean_texts_per_call": stats.items / stats.calls if stats.calls else None,
                "model_busy_s": round(stats.busy_s, 3),
                "padding_waste": padding_waste(served.real_tokens, served.padded_tokens),
                # Dropped before the model ran them: deadline passed, or the caller had gone.
                "dropped_expired": served.dropped_expired,
                "dropped_cancelled": stats.dropped_items,
                # Lines whose translation reached the decoding limit: translated again in
                # pieces, and those that still did not finish (answered flagged truncated).
                "resplit_lines": served.resplit_lines,
                "truncated_lines": served.truncated_lines,
            },
        }

    async def translate_batch(self, items: list[TextItem]) -> TranslatedBatch:
        """One slot per item, in order; merged with other queued batches into one model call."""
        done = await self._scheduler.submit_timed(items)
        self._observe_batch(items, done.results, done.queued_s, done.run_s)
        return TranslatedBatch(done.results, done.queued_s, done.run_s)

    def _run(self, items: list[TextItem]) -> list[TranslatorOutcome]:
        # In the scheduler's model thread; a reconfigure may swap the runner, not this call's.
        return self._require_runner().run(items)

    def _require_runner(self) -> BatchRunner:
        if self._runner is None:
            raise RuntimeError("the Translator has no model yet (reconfigure loads it)")
        return self._runner

    def _observe_call(self, call: ModelCall) -> None:
        tags = {"target": call.pair.target}
        metrics = self._metrics
        metrics.batch_texts.observe(call.texts, tags=tags)
        metrics.batch_padded_tokens.observe(call.padded_tokens, tags=tags)
        metrics.input_tokens.inc(call.real_tokens, tags={**tags, "kind": "real"})
        metrics.input_tokens.inc(call.padded_tokens, tags={**tags, "kind": "padded"})
        metrics.model_seconds.observe(call.seconds, tags=tags)

    def _observe_batch(
        self,
        items: list[TextItem],
        outcomes: list[TranslatorOutcome],
        queue_s: float,
        model_s: float,
    ) -> None:
        """Metrics and one log line per batch (not per text: this runs on the hot path)."""
        known = {pair.target for pair in self._require_runner().engine.pairs}
        metrics = self._metrics
        translated: dict[str, int] = defaultdict(int)
        errors: dict[tuple[str, str], int] = defaultdict(int)
        for item, outcome in zip(items, outcomes, strict=True):
            tag = target_tag(item.target, known)
            if isinstance(outcome, TranslationServiceError):
                errors[tag, outcome.code] += 1
            else:
                translated[tag] += 1
                if outcome.truncated:  # answered, flagged: counted as an error all the same
                    errors[tag, TRUNCATED] += 1
        for tag in {target_tag(item.target, known) for item in items}:
            metrics.queue_wait_seconds.observe(queue_s, tags={"target": tag})
        for tag, count in translated.items():
            metrics.texts_translated.inc(count, tags={"target": tag})
        for (tag, code), count in errors.items():
            metrics.errors.inc(count, tags={"target": tag, "code": code, "stage": "translator"})
        logger.info(
            "batch of %d texts: queued %.3f s, model %.3f s, %d failed, %d truncated; requests %s",
            len(items),
            queue_s,
            model_s,
            sum(count for (_, code), count in errors.items() if code != TRUNCATED),
            sum(count for (_, code), count in errors.items() if code == TRUNCATED),
            ",".join(dict.fromkeys(item.request_id for item in items)),
        )
