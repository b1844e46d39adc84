"""The engines that run a checkpoint: ``load_engine`` is the one place that picks one.

Each engine module is imported only when chosen, so a torch replica never loads ctranslate2,
and nothing outside this package imports torch, transformers or ctranslate2.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass

from deployments.core.settings import GPU_COMPUTE_TYPES, ModelSettings
from deployments.engines.base import Engine
from deployments.engines.decoding import Pair
from deployments.engines.families import (
    PairSelection,
    declared_pairs,
    family_of,
    max_input_tokens,
)

# Translated once at load, before Serve marks the replica ready: the first call pays lazy init.
WARM_UP_TEXT = "Hello world!"
# The warm-up text's language: its pair is preferred for the warm-up when the model has one.
WARM_UP_SOURCE = "en"


def resolve_device(device: str, gpus_assigned: bool) -> str:
    """``auto`` means CUDA only when this process was given a GPU: a replica with
    ``num_gpus: 0`` on a GPU host still sees the card, whose memory Ray promised elsewhere."""
    if device != "auto":
        return device
    if not gpus_assigned:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Offer:
    """What a checkpoint offers, read from its config (and a multilingual one's tokenizer)
    without loading its weights: what the graph routes by before any model is loaded."""

    family: str
    pairs: tuple[Pair, ...]
    max_input_tokens: int | None


def read_offer(settings: ModelSettings) -> Offer:
    """The pairs ``settings`` serves from its checkpoint; raises as loading it would (no pair
    selected, no such checkpoint)."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(settings.model)
    family = family_of(config)
    # Only a multilingual checkpoint's pairs need its tokenizer (its language tokens).
    tokenizer = AutoTokenizer.from_pretrained(settings.model) if family == "m2m_100" else None
    pairs = declared_pairs(config, tokenizer, pair_selection(settings), settings.model)
    return Offer(family, tuple(pairs), max_input_tokens(config))


def load_engine(
    settings: ModelSettings,
    device: str,
    *,
    threads: int | None = None,
    encoder_group_size: int = 0,
    warm_up: bool = True,
) -> Engine:
    """Load ``settings.model`` on ``device`` (already resolved from ``auto``) on its engine."""
    if device == "cpu" and settings.dtype == "float16":
        raise ValueError("dtype float16 needs a GPU; device is cpu")
    overrides = settings.decoding.overrides()
    selection = pair_selection(settings)
    engine: Engine
    if ":" in settings.engine:
        module, _, name = settings.engine.partition(":")
        factory = getattr(importlib.import_module(module), name)
        engine = factory(settings, device)
    elif settings.engine == "ctranslate2":
        if device == "cpu" and settings.compute_type in GPU_COMPUTE_TYPES:
            raise ValueError(f"compute_type {settings.compute_type} needs a GPU; device is cpu")
        from deployments.engines.ct2_engine import CTranslate2Engine

        engine = CTranslate2Engine(
            settings.model,
            device=device,
            compute_type=settings.compute_type or "int8",
            threads=threads,
            decoding_overrides=overrides,
            pair_selection=selection,
        )
    else:
        from deployments.engines.torch_engine import TorchEngine

        engine = TorchEngine(
            settings.model,
            device=device,
            dtype=settings.dtype,
            threads=threads,
            decoding_overrides=overrides,
            encoder_group_size=encoder_group_size,
            pair_selection=selection,
        )
    if warm_up:
        engine.translate([WARM_UP_TEXT], warm_up_pair(engine.pairs))
    return engine


def pair_selection(settings: ModelSettings) -> PairSelection:
    """The pairs ``settings`` ask for (a Marian checkpoint's one pair: source and target)."""
    languages = frozenset(settings.languages) if settings.languages else None
    return PairSelection(source=settings.source, target=settings.target, languages=languages)


def warm_up_pair(pairs: Iterable[Pair]) -> Pair:
    """A pair from the warm-up text's language if there is one, else the first."""
    ordered = list(pairs)
    return next((pair for pair in ordered if pair.source == WARM_UP_SOURCE), ordered[0])


__all__ = ["WARM_UP_TEXT", "Engine", "Offer", "Pair", "load_engine", "read_offer", "resolve_device"]
