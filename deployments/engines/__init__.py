"""The engines that run a checkpoint: ``load_engine`` is the one place that picks one.

Each engine module is imported only when chosen, so a torch replica never loads ctranslate2,
and nothing outside this package imports torch, transformers or ctranslate2.
"""

from __future__ import annotations

import importlib

from deployments.core.settings import GPU_COMPUTE_TYPES, TranslatorSettings
from deployments.engines.base import Engine

# Translated once at load, before Serve marks the replica ready: the first call pays lazy init.
WARM_UP_TEXT = "Hello world!"


def resolve_device(device: str, gpus_assigned: bool) -> str:
    """``auto`` means CUDA only when this process was given a GPU: a replica with
    ``num_gpus: 0`` on a GPU host still sees the card, whose memory Ray promised elsewhere."""
    if device != "auto":
        return device
    if not gpus_assigned:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_engine(settings: TranslatorSettings, device: str, *, warm_up: bool = True) -> Engine:
    """Load ``settings.model`` on ``device`` (already resolved from ``auto``) on its engine."""
    if device == "cpu" and settings.dtype == "float16":
        raise ValueError("dtype float16 needs a GPU; device is cpu")
    overrides = settings.decoding.overrides()
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
            threads=settings.threads,
            decoding_overrides=overrides,
        )
    else:
        from deployments.engines.torch_engine import TorchEngine

        engine = TorchEngine(
            settings.model,
            device=device,
            dtype=settings.dtype,
            threads=settings.threads,
            decoding_overrides=overrides,
            encoder_group_size=settings.batching.encoder_group_size,
        )
    if warm_up:
        engine.translate([WARM_UP_TEXT], next(iter(engine.targets)))
    return engine


__all__ = ["WARM_UP_TEXT", "Engine", "load_engine", "resolve_device"]
