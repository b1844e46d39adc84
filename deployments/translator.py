"""The Translator deployment: owns the models; one model call at a time, over merged batches.

Its ``user_config`` lists models (deployments/core/settings.py). Each is loaded on demand
through Serve's ``@serve.multiplexed``: a batch arrives with its model's id (the ingress sets
``multiplexed_model_id``), Serve routes it to a replica that holds that model where one does,
and past ``max_models_per_replica`` the least recently used model is unloaded. Each loaded model
has its own queue (a batch never mixes models); the replica runs one model call at a time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import ray
from ray import serve

from deployments.batching.lengths import padding_waste
from deployments.batching.memory import MemoryStats, TranslationMemory
from deployments.batching.runner import BatchRunner, ModelCall, RunnerStats
from deployments.batching.scheduler import BatchScheduler, SchedulerStats
from deployments.core.errors import ModelUnavailable, TranslationServiceError, UnsupportedTarget
from deployments.core.messages import (
    API_SOURCE,
    ReplicaModels,
    TextItem,
    TranslatedBatch,
    TranslatedText,
    TranslatorOutcome,
)
from deployments.core.metrics import TranslatorMetrics
from deployments.core.observability import target_tag
from deployments.core.settings import ModelSettings, TranslatorSettings
from deployments.engines import Engine, Offer, load_engine, read_offer, resolve_device

logger = logging.getLogger("ray.serve")

# The error code a translation that may be cut is counted under (it is still answered, flagged).
TRUNCATED = "truncated"
# Where @serve.multiplexed keeps its model cache on the instance (ray/serve/api.py): its size
# bound is fixed at decoration, so reconfigure sets the configured one there.
MULTIPLEX_CACHE = "__serve_multiplex_wrapper"
# A text routed to a model that failed to load may retry after this (the next request retries).
RELOAD_RETRY_AFTER_S = 1.0


@dataclass
class LoadedModel:
    """One model on this replica: its engine, its own queue, when and how fast it loaded."""

    settings: ModelSettings
    load_key: tuple
    engine: Engine
    runner: BatchRunner
    scheduler: BatchScheduler[TextItem, TranslatorOutcome]
    load_s: float
    # Its translations so far; cleared when its settings change (decoding, pair).
    memory: TranslationMemory
    memory_for: str = ""  # the settings (JSON) its memory's translations were made with


@dataclass
class _Served:
    """What the replica's models have done, kept across unloads."""

    calls: int = 0
    texts: int = 0
    busy_s: float = 0.0
    dropped_cancelled: int = 0
    runner: RunnerStats | None = None

    def add(self, stats: SchedulerStats, runner: RunnerStats) -> None:
        self.calls += stats.calls
        self.texts += stats.items
        self.busy_s += stats.busy_s
        self.dropped_cancelled += stats.dropped_items
        total = self.runner or RunnerStats()
        for name in vars(runner):
            setattr(total, name, getattr(total, name) + getattr(runner, name))
        self.runner = total


# Safe defaults for a 2-core machine; configs/*.yaml size it for real. max_ongoing_requests
# must let the ingress's concurrent batches reach the replica, where they merge.
@serve.deployment(
    ray_actor_options={"num_cpus": 1, "num_gpus": 0},
    max_ongoing_requests=64,
    max_queued_requests=64,
)
class Translator:
    """A list of texts in, a list of outcomes out, on the model the batch names."""

    def __init__(self) -> None:
        self._settings = TranslatorSettings()
        # What each configured model offers, read from its checkpoint (no weights), by load key.
        self._offers: dict[str, tuple[tuple, Offer]] = {}
        self._loaded: dict[str, LoadedModel] = {}
        self._load_errors: dict[str, str] = {}
        # One model call at a time on this replica's cores, whichever model's queue it is from.
        self._model_call = threading.Lock()
        self._retired = _Served()
        self._loads: Counter[str] = Counter()
        self._evictions: Counter[str] = Counter()
        self._metrics = TranslatorMetrics()
        self._replica = _replica_name()
        # Lookups in the memories of models since unloaded.
        self._memory_retired = MemoryStats()

    async def reconfigure(self, user_config: dict[str, Any]) -> None:
        settings = TranslatorSettings.model_validate(user_config)
        threads = settings.threads
        # A checkpoint that cannot be read is a config error: the deploy fails, loudly.
        offers: dict[str, tuple[tuple, Offer]] = {}
        for model in settings.models:
            key = model.load_key(threads)
            known = self._offers.get(model.id)
            if known is not None and known[0] == key:
                offers[model.id] = known
            else:
                offers[model.id] = (key, await asyncio.to_thread(read_offer, model))
        self._settings, self._offers = settings, offers
        # Models removed from the config, or whose load settings changed, are unloaded now.
        for model_id, loaded in list(self._loaded.items()):
            kept = settings.find(model_id)
            if kept is None or kept.load_key(threads) != loaded.load_key:
                self._unload(model_id, reason="removed" if kept is None else "reloaded")
        for loaded in self._loaded.values():
            self._apply(loaded, settings.find(loaded.settings.id) or loaded.settings)
        await self._size_cache()
        # The first models listed are loaded at start, so the common pairs never wait for one.
        # One that fails is retried when a batch needs it; none loading fails the deploy.
        preload = settings.models[: settings.max_models_per_replica]
        failures = []
        for model in preload:
            try:
                await self._model(model.id)
            except Exception as error:  # already logged and counted
                failures.append(f"{model.id}: {type(error).__name__}: {error}")
        if len(failures) == len(preload):
            raise RuntimeError(f"no model could be loaded: {'; '.join(failures)}")
        await self._size_cache()

    async def _size_cache(self) -> None:
        """Serve's model cache (made on the first load) takes the configured size."""
        cache = getattr(self, MULTIPLEX_CACHE, None)
        if cache is None:
            return
        limit = self._settings.max_models_per_replica
        cache.max_num_models_per_replica = limit
        while len(cache.models) > limit:
            await cache.unload_model_lru()
            self._note_evictions()

    def describe(self) -> dict[str, Any]:
        """What /health and /info report: every model and the pairs it offers, the first one's
        engine at the top (as when there was one), what this replica has loaded, how it
        batches."""
        settings = self._settings
        models = [self._describe_model(model) for model in settings.models]
        first = models[0]
        targets: dict[str, dict[str, Any]] = {}
        for model in settings.models:
            loaded = self._loaded.get(model.id)
            for pair in self._offers[model.id][1].pairs:
                if pair.source == API_SOURCE and pair.target not in targets:
                    decoding = loaded.engine.pairs.get(pair) if loaded else None
                    targets[pair.target] = (
                        {"prefix": decoding.prefix, **decoding.generate_kwargs} if decoding else {}
                    )
        served = self._served()
        runner = served.runner or RunnerStats()
        queued = sum(m.scheduler.stats().queued_items for m in self._loaded.values())
        return {
            **{key: first[key] for key in ("model", "device", "engine", "dtype", "compute_type")},
            "family": first["family"],
            "max_input_tokens": first["max_input_tokens"],
            "threads": settings.threads or self._engine_threads(),
            "single_thread_max_texts": settings.single_thread_max_texts,
            "targets": targets,
            "pairs": list(dict.fromkeys(pair for model in models for pair in model["pairs"])),
            "models": models,
            "replica": {
                **self._replica_models().as_dict(),
                "max_models_per_replica": settings.max_models_per_replica,
                "load_errors": dict(self._load_errors),
            },
            "batching": settings.batching.model_dump(),
            "translation_memory": self._memory_description(),
            "served": {
                "model_calls": served.calls,
                "texts": served.texts,
                "queued_texts": queued,
                "mean_texts_per_call": served.texts / served.calls if served.calls else None,
                "model_busy_s": round(served.busy_s, 3),
                "padding_waste": padding_waste(runner.real_tokens, runner.padded_tokens),
                # Dropped before the model ran them: deadline passed, or the caller had gone.
                "dropped_expired": runner.dropped_expired,
                "dropped_cancelled": served.dropped_cancelled,
                # Lines whose translation reached the decoding limit: translated again in
                # pieces, and those that still did not finish (answered flagged truncated).
                "resplit_lines": runner.resplit_lines,
                "truncated_lines": runner.truncated_lines,
            },
        }

    async def translate_batch(self, items: list[TextItem]) -> TranslatedBatch:
        """One slot per item, in order, on the batch's model (its multiplexed id; the first
        model listed when it has none); merged with that model's other queued batches."""
        model_id = serve.get_multiplexed_model_id() or self._settings.models[0].id
        if self._settings.find(model_id) is None:
            return self._refused(items, self._not_served(model_id))
        try:
            loaded = await self._model(model_id)
        except Exception as error:
            failure = ModelUnavailable(
                f"model {model_id!r} failed to load ({type(error).__name__}: {error}); the "
                "next request for it tries again",
                model=model_id,
                retry_after_s=RELOAD_RETRY_AFTER_S,
            )
            return self._refused(items, failure)
        outcomes: list[TranslatorOutcome | None] = [None] * len(items)
        memory = loaded.memory
        hits_before, misses_before = memory.hits, memory.misses
        misses = []  # every text the model runs: not in memory, or not to be looked up there
        for index, item in enumerate(items):
            found = memory.get(item) if item.memory and memory.max_entries else None
            if found is None:
                misses.append(index)
            else:
                outcomes[index] = found
        self._observe_memory(loaded, memory.hits - hits_before, memory.misses - misses_before)
        queued_s = run_s = 0.0
        if misses:
            asked = [items[i] for i in misses]
            done = await loaded.scheduler.submit_timed(asked)
            queued_s, run_s = done.queued_s, done.run_s
            for index, item, outcome in zip(misses, asked, done.results, strict=True):
                outcomes[index] = outcome
                if item.memory and isinstance(outcome, TranslatedText):
                    memory.put(item, outcome)
            self._observe_batch(loaded, asked, done.results, queued_s, run_s)
        results = [outcome for outcome in outcomes if outcome is not None]
        return TranslatedBatch(results, queued_s, run_s, self._replica_models())

    def _replica_models(self) -> ReplicaModels:
        memory = self._memory_stats()
        return ReplicaModels(
            self._replica,
            tuple(self._cache_order()),
            sum(self._loads.values()),
            sum(self._evictions.values()),
            memory.hits,
            memory.misses,
        )

    def _memory_stats(self) -> MemoryStats:
        """Lookups in every model's memory on this replica (unloaded ones too), entries now."""
        total = MemoryStats(self._memory_retired.hits, self._memory_retired.misses)
        for loaded in self._loaded.values():
            stats = loaded.memory.stats()
            total.hits += stats.hits
            total.misses += stats.misses
            total.entries += stats.entries
        return total

    def _memory_description(self) -> dict[str, Any]:
        stats = self._memory_stats()
        return {
            "max_entries_per_model": self._settings.translation_memory.max_entries,
            "entries": stats.entries,
            "hits": stats.hits,
            "misses": stats.misses,
            "hit_ratio": stats.hit_ratio,
        }

    def _observe_memory(self, loaded: LoadedModel, hits: int, misses: int) -> None:
        tags = {"model": loaded.settings.id}
        metrics = self._metrics
        if hits:
            metrics.memory_lookups.inc(hits, tags={**tags, "outcome": "hit"})
        if misses:
            metrics.memory_lookups.inc(misses, tags={**tags, "outcome": "miss"})
        metrics.memory_entries.set(loaded.memory.stats().entries, tags=tags)

    @serve.multiplexed(max_num_models_per_replica=3)
    async def _model(self, model_id: str) -> LoadedModel:
        """Load ``model_id`` (Serve calls this on a cache miss, after unloading the least
        recently used model if the replica is full)."""
        self._note_evictions()
        settings, model = self._settings, self._settings.find(model_id)
        if model is None:
            raise KeyError(f"model {model_id!r} is not in the Translator's config")
        started = time.monotonic()
        try:
            engine = await asyncio.to_thread(self._load_engine, model, settings)
        except Exception as error:
            self._load_errors[model_id] = f"{type(error).__name__}: {error}"
            self._metrics.model_loads.inc(tags={"model": model_id, "outcome": "failed"})
            logger.exception("model %s failed to load", model_id)
            raise
        load_s = time.monotonic() - started
        self._load_errors.pop(model_id, None)
        runner = BatchRunner(engine, max_batch_tokens=0, on_call=self._observer(model_id))
        loaded = LoadedModel(
            model,
            model.load_key(settings.threads),
            engine,
            runner,
            BatchScheduler(lambda items: self._run(runner, items)),
            load_s,
            TranslationMemory(settings.translation_memory.max_entries),
        )
        self._apply(loaded, model)
        self._loaded[model_id] = loaded
        self._loads[model_id] += 1
        self._metrics.model_loads.inc(tags={"model": model_id, "outcome": "loaded"})
        self._metrics.model_load_seconds.observe(load_s, tags={"model": model_id})
        logger.info(
            "Translator loaded %s (%s) on %s (%s) in %.1f s",
            model_id,
            engine.model_name,
            engine.device,
            engine.engine,
            load_s,
        )
        return loaded

    def _load_engine(self, model: ModelSettings, settings: TranslatorSettings) -> Engine:
        gpus_assigned = model.device == "auto" and bool(ray.get_gpu_ids())
        device = resolve_device(model.device, gpus_assigned=gpus_assigned)
        return load_engine(
            model,
            device,
            threads=settings.threads,
            encoder_group_size=settings.batching.encoder_group_size,
        )

    def _apply(self, loaded: LoadedModel, model: ModelSettings) -> None:
        """The settings that apply without a reload: decoding, batching, threads."""
        settings, runner = self._settings, loaded.runner
        loaded.settings = model
        # Its memory holds what these settings translated; others (decoding, pair) translate
        # otherwise.
        made_with = model.model_dump_json()
        if loaded.memory_for != made_with:
            loaded.memory.clear()
            loaded.memory_for = made_with
        loaded.memory.resize(settings.translation_memory.max_entries)
        runner.engine.set_decoding(model.decoding.overrides())
        runner.configure(settings)
        batching = settings.batching
        loaded.scheduler.configure(
            max_items=batching.max_batch_size, max_wait_s=batching.max_wait_s
        )

    def _run(self, runner: BatchRunner, items: list[TextItem]) -> list[TranslatorOutcome]:
        # In the model's scheduler thread; one call at a time across the replica's models.
        with self._model_call:
            return runner.run(items)

    def _unload(self, model_id: str, *, reason: str) -> None:
        loaded = self._loaded.pop(model_id)
        loaded.scheduler.close()
        self._retired.add(loaded.scheduler.stats(), loaded.runner.stats)
        memory = loaded.memory.stats()
        self._memory_retired.hits += memory.hits
        self._memory_retired.misses += memory.misses
        cache = getattr(self, MULTIPLEX_CACHE, None)
        if cache is not None:
            cache.models.pop(model_id, None)
        self._evictions[model_id] += 1
        self._metrics.model_evictions.inc(tags={"model": model_id})
        logger.info("Translator unloaded %s (%s)", model_id, reason)

    def _note_evictions(self) -> None:
        """Serve's cache unloads the least recently used model itself: forget it here too."""
        cached = set(self._cache_order())
        for model_id in [m for m in self._loaded if m not in cached]:
            self._unload(model_id, reason="least recently used, to make room")

    def _cache_order(self) -> list[str]:
        """The models this replica holds, least recently used first."""
        cache = getattr(self, MULTIPLEX_CACHE, None)
        return list(cache.models) if cache is not None else []

    def _served(self) -> _Served:
        total = _Served(**vars(self._retired))
        if total.runner is not None:
            total.runner = RunnerStats(**vars(total.runner))
        for loaded in self._loaded.values():
            total.add(loaded.scheduler.stats(), loaded.runner.stats)
        return total

    def _engine_threads(self) -> int | None:
        first = self._loaded.get(self._settings.models[0].id)
        return first.engine.threads if first else None

    def _describe_model(self, model: ModelSettings) -> dict[str, Any]:
        offer = self._offers[model.id][1]
        loaded = self._loaded.get(model.id)
        engine = loaded.engine if loaded else None
        return {
            "id": model.id,
            "model": model.model,
            "family": offer.family,
            "engine": engine.engine if engine else model.engine,
            "device": engine.device if engine else model.device,
            "dtype": engine.dtype if engine else (None if model.compute_type else model.dtype),
            "compute_type": engine.compute_type if engine else model.compute_type,
            "max_input_tokens": offer.max_input_tokens,
            "pairs": [pair.key for pair in offer.pairs],
            "loaded": engine is not None,
            "load_s": round(loaded.load_s, 2) if loaded else None,
            "load_error": self._load_errors.get(model.id),
        }

    def _not_served(self, model_id: str) -> UnsupportedTarget:
        pairs = [pair.key for _, offer in self._offers.values() for pair in offer.pairs]
        return UnsupportedTarget(
            f"model {model_id!r} is not served (removed from the config?); pairs served: "
            f"{', '.join(pairs)}",
            model=model_id,
            pairs=pairs,
        )

    def _refused(self, items: list[TextItem], error: TranslationServiceError) -> TranslatedBatch:
        return TranslatedBatch([error] * len(items), 0.0, 0.0, self._replica_models())

    def _observer(self, model_id: str):
        metrics = self._metrics

        def observe(call: ModelCall) -> None:
            tags = {"target": call.pair.target, "model": model_id}
            metrics.batch_texts.observe(call.texts, tags=tags)
            metrics.batch_padded_tokens.observe(call.padded_tokens, tags=tags)
            metrics.input_tokens.inc(call.real_tokens, tags={**tags, "kind": "real"})
            metrics.input_tokens.inc(call.padded_tokens, tags={**tags, "kind": "padded"})
            metrics.model_seconds.observe(call.seconds, tags=tags)

        return observe

    def _observe_batch(
        self,
        loaded: LoadedModel,
        items: list[TextItem],
        outcomes: list[TranslatorOutcome],
        queue_s: float,
        model_s: float,
    ) -> None:
        """Metrics and one log line per batch (not per text: this runs on the hot path)."""
        known = {pair.target for pair in loaded.engine.pairs}
        model_id = loaded.settings.id
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
            metrics.queue_wait_seconds.observe(queue_s, tags={"target": tag, "model": model_id})
        for tag, count in translated.items():
            metrics.texts_translated.inc(count, tags={"target": tag, "model": model_id})
        for (tag, code), count in errors.items():
            metrics.errors.inc(count, tags={"target": tag, "code": code, "stage": "translator"})
        logger.info(
            "batch of %d texts on %s: queued %.3f s, model %.3f s, %d failed, %d truncated; "
            "requests %s",
            len(items),
            model_id,
            queue_s,
            model_s,
            sum(count for (_, code), count in errors.items() if code != TRUNCATED),
            sum(count for (_, code), count in errors.items() if code == TRUNCATED),
            ",".join(dict.fromkeys(item.request_id for item in items)),
        )


def _replica_name() -> str:
    """This replica's id, as Serve names it in its logs and metrics."""
    try:
        return serve.get_replica_context().replica_id.unique_id
    except Exception:  # outside a replica (unit tests)
        return "local"
