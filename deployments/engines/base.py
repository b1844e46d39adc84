"""The engine interface: what the Translator needs from a loaded checkpoint, whichever engine
runs it, and the parts both engines share (the Hugging Face tokenizer, the prefix).

Nothing here imports torch, transformers or ctranslate2; the engine modules import this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from deployments.engines.decoding import TargetDecoding


class Generated(NamedTuple):
    """One line's translation, and whether the model ended it (False: it reached the decoding
    length limit first, so the text may be cut)."""

    text: str
    finished: bool


class Engine(Protocol):
    """A loaded checkpoint on one engine: texts in, translations out, one model call each."""

    engine: str  # "torch" or "ctranslate2"
    model_name: str
    device: str
    targets: dict[str, TargetDecoding]
    # Length-sorted encoder groups (torch only; see torch_engine.py); set in place.
    encoder_group_size: int

    @property
    def dtype(self) -> str | None:
        """torch's weight type; None on ctranslate2."""
        ...

    @property
    def compute_type(self) -> str | None:
        """ctranslate2's weight type; None on torch."""
        ...

    @property
    def max_input_tokens(self) -> int | None: ...

    @property
    def threads(self) -> int: ...

    def set_threads(self, threads: int) -> None: ...

    def set_decoding(self, overrides: Mapping[str, Any] | None) -> None: ...

    def encode(self, texts: Sequence[str], target: str) -> list[list[int]]: ...

    def count_tokens(self, texts: Sequence[str], target: str) -> list[int]: ...

    def translate(self, texts: Sequence[str], target: str) -> list[str]: ...

    def translate_encoded(self, input_ids: Sequence[list[int]], target: str) -> list[str]: ...

    def generate(self, input_ids: Sequence[list[int]], target: str) -> list[Generated]: ...


class TokenizedCheckpoint:
    """What both engines do the same way, with the checkpoint's Hugging Face tokenizer: the
    prefix, the input ids, the model's input bound. An engine sets ``tokenizer``, ``config``
    (the checkpoint's) and ``targets``, and brings its own ``translate_encoded``."""

    tokenizer: Any
    config: Any
    targets: dict[str, TargetDecoding]
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
        """``translate`` for texts already encoded (by ``encode``)."""
        return [generated.text for generated in self.generate(input_ids, target)]

    def generate(self, input_ids: Sequence[list[int]], target: str) -> list[Generated]:
        raise NotImplementedError
