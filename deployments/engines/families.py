"""Model families: which language pairs a checkpoint offers, how a text is encoded for a pair,
and what generation needs for it. Both engines use these, so they cannot disagree on them.

The family is the config's ``model_type``:

- ``marian`` (opus-mt): one pair per checkpoint, which the checkpoint does not declare reliably,
  so it comes from the configuration (``source`` and ``target``). No prefix.
- ``m2m_100`` (M2M100, NLLB): every pair among the tokenizer's language tokens that
  languages.py maps to an API code. The tokenizer marks the input with the source language
  (``src_lang``), and the target's language token is forced as the first generated token.
- anything else (T5): the pairs its ``task_specific_params`` declare, each with its prefix.

The configuration may restrict the pairs (``PairSelection``). Pure: duck-typed config and
tokenizer, no ML import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deployments.engines.decoding import Pair, PairDecoding, pairs_from_task_params
from deployments.engines.languages import iso_code


@dataclass(frozen=True)
class PairSelection:
    """The pairs the configuration asks for: from ``source``, into ``target``, between
    ``languages`` (None: any). A Marian checkpoint's one pair is ``source``-``target``."""

    source: str | None = None
    target: str | None = None
    languages: frozenset[str] | None = None

    def admits(self, pair: Pair) -> bool:
        return (
            self.source in (None, pair.source)
            and self.target in (None, pair.target)
            and (self.languages is None or {pair.source, pair.target} <= self.languages)
        )


PairFinder = Callable[[Any, Any, PairSelection], dict[Pair, PairDecoding]]


def family_of(config: Any) -> str:
    """The config's ``model_type`` ("t5", "marian", "m2m_100"...), which picks the rules."""
    return str(getattr(config, "model_type", None) or "unknown")


def declared_pairs(
    config: Any, tokenizer: Any, selection: PairSelection, model: str
) -> dict[Pair, PairDecoding]:
    """The checkpoint's pairs that ``selection`` admits, sorted; refuses a checkpoint left
    with none, since it would have nothing to offer."""
    family = family_of(config)
    finder = _PAIR_FINDERS.get(family, _task_prefix_pairs)
    found = finder(config, tokenizer, selection)
    pairs = {pair: decoding for pair, decoding in found.items() if selection.admits(pair)}
    if not pairs:
        offered = ", ".join(pair.key for pair in found) or "none"
        raise ValueError(
            f"checkpoint {model!r} ({family}) offers no language pair the configuration "
            f"selects (source {selection.source}, target {selection.target}, languages "
            f"{sorted(selection.languages) if selection.languages else None}); it offers: "
            f"{offered}"
            + (
                ". A T5-style checkpoint declares translation_<source>_to_<target> entries in "
                "task_specific_params"
                if finder is _task_prefix_pairs
                else ""
            )
        )
    return dict(sorted(pairs.items()))


def encode_for_pair(
    tokenizer: Any, texts: Sequence[str], decoding: PairDecoding
) -> list[list[int]]:
    """Each text's input ids for ``decoding``'s pair, unpadded, end of sequence included."""
    if decoding.source_language is not None:
        # Read by the tokenizer's next call, which puts that language's token in the input.
        # Engines encode on one thread (the model thread), so setting it is safe.
        tokenizer.src_lang = decoding.source_language
    return tokenizer([decoding.prefix + text for text in texts])["input_ids"]


def generate_kwargs(tokenizer: Any, decoding: PairDecoding) -> dict[str, Any]:
    """``generate``'s keyword arguments for ``decoding``'s pair: its settings, and the target
    language token as the first generated one (``forced_bos_token_id``) where there is one."""
    kwargs = {**UNAPPLIED_GENERATION_DEFAULTS, **decoding.generate_kwargs}
    if decoding.target_token is not None:
        kwargs["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(decoding.target_token)
    return kwargs


# Generation defaults a checkpoint may set that neither engine applies. forced_eos_token_id
# (every Marian config sets it) ends a translation cut at the length limit with an end token,
# which would hide the cut from the runner, which translates such a line again in pieces;
# CTranslate2 has no such option.
UNAPPLIED_GENERATION_DEFAULTS: dict[str, Any] = {"forced_eos_token_id": None}


def max_input_tokens(config: Any) -> int | None:
    """The longest input the model reads: T5's ``n_positions`` (512 for t5-small), Marian's and
    M2M100's ``max_position_embeddings``; None where the config names no bound."""
    for name in ("n_positions", "max_position_embeddings"):
        limit = getattr(config, name, None)
        if limit:
            return int(limit)
    return None


def language_tokens(tokenizer: Any) -> dict[str, tuple[str, str]]:
    """API code -> (the tokenizer's ``src_lang`` value, the language token), for every language
    token of a multilingual tokenizer that languages.py maps."""
    by_code = getattr(tokenizer, "lang_code_to_token", None)
    if by_code:  # M2M100Tokenizer: src_lang "de", token "__de__"
        candidates = list(by_code.items())
    else:  # NLLB: src_lang and token are both "deu_Latn"
        candidates = [(token, token) for token in tokenizer.all_special_tokens]
    found: dict[str, tuple[str, str]] = {}
    for source_language, token in candidates:
        code = iso_code(token)
        if code is not None:
            found.setdefault(code, (source_language, token))
    return dict(sorted(found.items()))


def _task_prefix_pairs(
    config: Any, tokenizer: Any, selection: PairSelection
) -> dict[Pair, PairDecoding]:
    return pairs_from_task_params(getattr(config, "task_specific_params", None))


def _marian_pairs(
    config: Any, tokenizer: Any, selection: PairSelection
) -> dict[Pair, PairDecoding]:
    if selection.source is None or selection.target is None:
        raise ValueError(
            "a Marian checkpoint does not declare which languages it translates: set source "
            "and target in the Translator's config (opus-mt-en-de: source en, target de)"
        )
    pair = Pair(selection.source, selection.target)
    return {pair: PairDecoding(pair)}


def _multilingual_pairs(
    config: Any, tokenizer: Any, selection: PairSelection
) -> dict[Pair, PairDecoding]:
    languages = language_tokens(tokenizer)
    return {
        Pair(source, target): PairDecoding(
            Pair(source, target),
            source_language=languages[source][0],
            target_token=languages[target][1],
        )
        for source in languages
        for target in languages
        if source != target
    }


_PAIR_FINDERS: dict[str, PairFinder] = {
    "marian": _marian_pairs,
    "m2m_100": _multilingual_pairs,
}
