"""The engine interface: what the Translator needs from a loaded checkpoint, whichever engine
runs it, and the parts both engines share (the Hugging Face tokenizer, the language pairs).

Nothing here imports torch, transformers or ctranslate2; the engine modules import this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from deployments.engines.decoding import Pair, PairDecoding
from deployments.engines.families import (
    PairSelection,
    declared_pairs,
    encode_for_pair,
    family_of,
    max_input_tokens,
)


class Generated(NamedTuple):
    """One line's translation, and whether the model ended it (False: it reached the decoding
    length limit first, so the text may be cut)."""

    text: str
    finished: bool


class Engine(Protocol):
    """A loaded checkpoint on one engine: texts in, translations out, one model call each, for
    one of the language ``pairs`` it offers."""

    engine: str  # "torch" or "ctranslate2"
    model_name: str
    device: str
    # The config's model_type: which rules find the pairs and encode (families.py).
    family: str
    pairs: dict[Pair, PairDecoding]
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

    def encode(self, texts: Sequence[str], pair: Pair) -> list[list[int]]: ...

    def count_tokens(self, texts: Sequence[str], pair: Pair) -> list[int]: ...

    def translate(self, texts: Sequence[str], pair: Pair) -> list[str]: ...

    def translate_encoded(self, input_ids: Sequence[list[int]], pair: Pair) -> list[str]: ...

    def generate(self, input_ids: Sequence[list[int]], pair: Pair) -> list[Generated]: ...


class TokenizedCheckpoint:
    """What both engines do the same way, with the checkpoint's Hugging Face tokenizer: the
    pairs, the input ids, the model's input bound. An engine sets ``tokenizer`` and ``config``
    (the checkpoint's), calls ``_find_pairs``, and brings its own ``generate``."""

    tokenizer: Any
    config: Any
    family: str
    pairs: dict[Pair, PairDecoding]
    # The pairs as the checkpoint declares them, before the config's decoding overrides.
    _declared: dict[Pair, PairDecoding]
    encoder_group_size: int = 0

    def _find_pairs(self, model: str, selection: PairSelection | None) -> None:
        """The checkpoint's pairs as the configuration selects them (decoding overrides are
        applied on top by ``set_decoding``); refuses a checkpoint left with none."""
        self.family = family_of(self.config)
        self._declared = declared_pairs(
            self.config, self.tokenizer, selection or PairSelection(), model
        )
        self.pairs = dict(self._declared)

    def _pairs_with(self, overrides: Mapping[str, Any] | None) -> dict[Pair, PairDecoding]:
        return {pair: d.with_overrides(overrides) for pair, d in self._declared.items()}

    @property
    def max_input_tokens(self) -> int | None:
        """The longest input the model reads (512 for t5-small); None where it has no bound."""
        return max_input_tokens(self.config)

    def encode(self, texts: Sequence[str], pair: Pair) -> list[list[int]]:
        """Each text's input ids as the model will see them (prefix or language token
        included), unpadded."""
        return encode_for_pair(self.tokenizer, texts, self.pairs[pair])

    def count_tokens(self, texts: Sequence[str], pair: Pair) -> list[int]:
        """Input length in tokens of each text, prefix or language token included."""
        return [len(ids) for ids in self.encode(texts, pair)]

    def translate(self, texts: Sequence[str], pair: Pair) -> list[str]:
        """Translate ``texts`` in one model call."""
        return self.translate_encoded(self.encode(texts, pair), pair)

    def translate_encoded(self, input_ids: Sequence[list[int]], pair: Pair) -> list[str]:
        """``translate`` for texts already encoded (by ``encode``)."""
        return [generated.text for generated in self.generate(input_ids, pair)]

    def generate(self, input_ids: Sequence[list[int]], pair: Pair) -> list[Generated]:
        raise NotImplementedError


__all__ = ["Engine", "Generated", "Pair", "PairDecoding", "TokenizedCheckpoint"]
