"""Language pairs, and how to decode each one: the prefix, the languages' tokens, the settings.

For T5-style checkpoints the pairs come from the config: transformers 4's translation pipeline
read ``task_specific_params["translation_<source>_to_<target>"]``, a ``prefix`` put before the
text and the rest handed to ``generate``. transformers 5 removed that pipeline, so this module
reproduces the rule, in pure Python, so that a user gets what the tutorial's pipeline gave them.
The other families' pairs are found in families.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

_TASK = re.compile(r"translation_(?P<source>[a-z]+)_to_(?P<target>[a-z]+)")


class Pair(NamedTuple):
    """A translation direction, in the API's language codes."""

    source: str
    target: str

    @property
    def key(self) -> str:
        """``en-fr``: the pair's name in /info and the logs."""
        return f"{self.source}-{self.target}"


@dataclass(frozen=True)
class PairDecoding:
    """What a pair needs from the tokenizer and ``generate``: the text's prefix (T5), the source
    language the tokenizer marks the input with and the target language token generation
    must start with (M2M100, NLLB), and ``generate``'s keyword arguments."""

    pair: Pair
    prefix: str = ""
    generate_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # The tokenizer's ``src_lang`` for this pair; None: the tokenizer has no such setting.
    source_language: str | None = None
    # Forced as the first generated token; None: the model starts freely.
    target_token: str | None = None

    @property
    def fixed_length(self) -> bool:
        """Every output is exactly the length limit, by request (minimum = maximum): reaching
        the limit without an end token is then no sign of a cut translation."""
        kwargs = self.generate_kwargs
        if kwargs.get("max_new_tokens") is not None:
            return (kwargs.get("min_new_tokens") or 0) >= kwargs["max_new_tokens"]
        maximum = kwargs.get("max_length")
        return maximum is not None and (kwargs.get("min_length") or 0) >= maximum

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> PairDecoding:
        """The deployment's decoding settings (``num_beams`` and the like) on top of the
        checkpoint's."""
        if not overrides:
            return self
        return replace(self, generate_kwargs={**self.generate_kwargs, **overrides})


def pairs_from_task_params(
    task_specific_params: Mapping[str, Mapping[str, Any]] | None,
) -> dict[Pair, PairDecoding]:
    """Every ``translation_<source>_to_<target>`` entry of a checkpoint's config, sorted."""
    pairs: dict[Pair, PairDecoding] = {}
    for task, params in (task_specific_params or {}).items():
        match = _TASK.fullmatch(task)
        if not match:
            continue
        pair = Pair(match["source"], match["target"])
        kwargs = {key: value for key, value in params.items() if key != "prefix"}
        pairs[pair] = PairDecoding(pair, prefix=params.get("prefix", ""), generate_kwargs=kwargs)
    return dict(sorted(pairs.items()))
