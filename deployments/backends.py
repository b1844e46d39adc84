"""Which engine runs the checkpoint: the one place the Translator gets its model from.

Both engines offer the same interface (``TranslationModel``), so the rest of the graph does not
know which one runs. Each is imported only when chosen: a torch replica never loads ctranslate2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from deployments.settings import GPU_COMPUTE_TYPES, TranslatorSettings
from deployments.targets import TargetDecoding


class TranslationModel(Protocol):
    """What the Translator needs from a loaded checkpoint, whichever engine runs it."""

    backend: str
    model_name: str
    dtype: str
    compute_type: str | None
    targets: dict[str, TargetDecoding]

    @property
    def max_input_tokens(self) -> int | None: ...

    def set_decoding(self, overrides: dict | None) -> None: ...

    def encode(self, texts: Sequence[str], target: str) -> list[list[int]]: ...

    def translate(self, texts: Sequence[str], target: str) -> list[str]: ...

    def translate_encoded(self, input_ids: Sequence[list[int]], target: str) -> list[str]: ...


def load_translator(settings: TranslatorSettings, device: str) -> TranslationModel:
    """Load ``settings.model`` on ``device`` (already resolved from ``auto``) with its backend."""
    overrides = settings.decoding.overrides()
    if settings.backend == "ctranslate2":
        if device == "cpu" and settings.compute_type in GPU_COMPUTE_TYPES:
            raise ValueError(f"compute_type {settings.compute_type} needs a GPU; device is cpu")
        from deployments.ctranslate2_backend import CTranslate2Translator

        return CTranslate2Translator(
            settings.model,
            device=device,
            compute_type=settings.compute_type,
            threads=settings.torch_threads,
            decoding_overrides=overrides,
        )
    from deployments.seq2seq import Seq2SeqTranslator

    return Seq2SeqTranslator(
        settings.model, device=device, dtype=settings.dtype, decoding_overrides=overrides
    )
