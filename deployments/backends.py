"""Which engine runs the checkpoint: the one place the Translator gets its model from.

Both engines offer the same interface (``TranslationModel``), so the rest of the graph does not
know which one runs. Each is imported only when chosen: a torch replica never loads ctranslate2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from deployments.settings import GPU_COMPUTE_TYPES, TranslatorSettings
from deployments.targets import TargetDecoding


class TranslationModel(Protocol):
    """What the Translator needs from a loaded checkpoint, whichever engine runs it."""

    backend: str
    model_name: str
    dtype: str
    compute_type: str | None
    targets: dict[str, TargetDecoding]
    # batching.encoder_group_size; set in place by the Translator, used by torch only.
    encoder_group_size: int

    @property
    def max_input_tokens(self) -> int | None: ...

    def set_decoding(self, overrides: dict | None) -> None: ...

    def encode(self, texts: Sequence[str], target: str) -> list[list[int]]: ...

    def translate(self, texts: Sequence[str], target: str) -> list[str]: ...

    def translate_encoded(self, input_ids: Sequence[list[int]], target: str) -> list[str]: ...


class TokenizedCheckpoint:
    """What both engines do the same way, with the checkpoint's Hugging Face tokenizer: the
    prefix, the input ids, the model's input bound. An engine sets ``tokenizer``, ``config``
    (the checkpoint's) and ``targets``, and brings its own ``translate_encoded``."""

    tokenizer: Any
    config: Any
    targets: dict[str, TargetDecoding]
    # torch runs its encoder in length-sorted groups of this many (deployments/seq2seq.py);
    # CTranslate2 pads its own batches and ignores it.
    encoder_group_size: int = 0

    def _require_targets(self, model: str) -> None:
        """A checkpoint with no translation_en_to_* entry has nothing to offer: refuse it."""
        if not self.targets:
            raise ValueError(
                f"checkpoint {model!r} declares no translation_en_to_* entry in "
                "task_specific_params, so it has no target language to offer"
            )

    @property
    def max_input_tokens(self) -> int | None:
        """The longest input the model reads (512 for t5-small); None where it has no bound."""
        limit = getattr(self.config, "n_positions", None)
        return int(limit) if limit else None

    def encode(self, texts: Sequence[str], target: str) -> list[list[int]]:
        """Each text's input ids as the model will see them, prefix included, unpadded."""
        prefix = self.targets[target].prefix
        return self.tokenizer([prefix + text for text in texts])["input_ids"]

    def count_tokens(self, texts: Sequence[str], target: str) -> list[int]:
        """Input length in tokens of each text, prefix included."""
        return [len(ids) for ids in self.encode(texts, target)]

    def translate(self, texts: Sequence[str], target: str) -> list[str]:
        """Translate ``texts`` in one model call."""
        return self.translate_encoded(self.encode(texts, target), target)

    def translate_encoded(self, input_ids: Sequence[list[int]], target: str) -> list[str]:
        raise NotImplementedError


def load_translator(settings: TranslatorSettings, device: str) -> TranslationModel:
    """Load ``settings.model`` on ``device`` (already resolved from ``auto``) with its backend."""
    if settings.torch_threads:
        import torch

        # Serve sets OMP_NUM_THREADS to floor(num_cpus); the thread count the settings name
        # applies from the load (and its warm-up) on.
        torch.set_num_threads(settings.torch_threads)
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
        settings.model,
        device=device,
        dtype=settings.dtype,
        decoding_overrides=overrides,
        encoder_group_size=settings.batching.encoder_group_size,
    )
