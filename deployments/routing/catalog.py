"""Which model translates which language pair, and the pairs translated through English.

The Translator's description lists its models and the pairs each offers; the ingress builds a
``Catalog`` from it and routes every text by its (source, target) pair. A pair no model serves
is pivoted, as LibreTranslate does, when ``source -> en`` and ``en -> target`` both are: two
model calls, the postprocessor once at the end. Pure: no Ray.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from deployments.core.errors import UnsupportedTarget
from deployments.core.messages import TextItem, TranslatedText, TranslatorOutcome
from deployments.engines.decoding import Pair
from deployments.text.segmentation import reassemble

# The language a pair no model serves is translated through.
PIVOT = "en"


@dataclass(frozen=True)
class Hop:
    """One model call of a route: the model (its multiplexed id) and the pair it translates."""

    model_id: str
    pair: Pair


@dataclass(frozen=True)
class Route:
    """How one pair is translated: one hop when a model serves it, two through the pivot."""

    pair: Pair
    hops: tuple[Hop, ...]

    @property
    def pivoted(self) -> bool:
        return len(self.hops) > 1


def parse_pair(key: str) -> Pair:
    """``"en-fr"`` -> ``Pair("en", "fr")``."""
    source, _, target = key.partition("-")
    return Pair(source, target)


class Catalog:
    """Routes from the models' offers, in the order the Translator lists its models: where two
    models serve one pair, the first listed serves it."""

    def __init__(self, offers: Iterable[tuple[str, Sequence[Pair]]] = ()) -> None:
        self.direct: dict[Pair, str] = {}
        for model_id, pairs in offers:
            for pair in pairs:
                self.direct.setdefault(pair, model_id)
        self.pivoted: dict[Pair, Route] = {}
        into_pivot = {p.source: m for p, m in self.direct.items() if p.target == PIVOT}
        from_pivot = {p.target: m for p, m in self.direct.items() if p.source == PIVOT}
        for source, first in into_pivot.items():
            for target, second in from_pivot.items():
                pair = Pair(source, target)
                if source != target and pair not in self.direct:
                    hops = (Hop(first, Pair(source, PIVOT)), Hop(second, Pair(PIVOT, target)))
                    self.pivoted[pair] = Route(pair, hops)
        # Asked on every request: computed once.
        self._pairs = sorted({*self.direct, *self.pivoted})
        self._sources = frozenset(pair.source for pair in self._pairs)

    @classmethod
    def from_models(cls, models: Iterable[dict]) -> Catalog:
        """From the Translator's description: ``[{"id": ..., "pairs": ["en-fr", ...]}, ...]``."""
        return cls((m["id"], [parse_pair(key) for key in m["pairs"]]) for m in models)

    def __bool__(self) -> bool:
        return bool(self.direct)

    def route(self, pair: Pair) -> Route | None:
        model_id = self.direct.get(pair)
        if model_id is not None:
            return Route(pair, (Hop(model_id, pair),))
        return self.pivoted.get(pair)

    def pairs(self) -> list[Pair]:
        """Every pair served, direct or pivoted, sorted."""
        return list(self._pairs)

    def sources(self) -> frozenset[str]:
        return self._sources

    def targets(self, source: str) -> list[str]:
        return [pair.target for pair in self.pairs() if pair.source == source]

    def refusal(self, pair: Pair) -> UnsupportedTarget:
        """The 422 for a pair neither served nor pivotable: it names the pair and those that are."""
        targets = self.targets(pair.source)
        served = ", ".join(p.key for p in self.pairs())
        return UnsupportedTarget(
            f"target {pair.target!r} is not supported from {pair.source!r} (supported: "
            f"{', '.join(targets) or 'none'}); pair {pair.key} is neither served nor pivotable "
            f"through {PIVOT}; pairs served: {served}",
            source=pair.source,
            target=pair.target,
            supported=targets,
            pairs=[p.key for p in self.pairs()],
        )


def hop_item(item: TextItem, hop: Hop) -> TextItem:
    """``item`` as ``hop``'s model is asked for it: the first hop of a pivot into the pivot."""
    if (item.source, item.target) == hop.pair:
        return item
    return replace(item, source=hop.pair.source, target=hop.pair.target)


def pivot_item(item: TextItem, into_pivot: TranslatedText) -> TextItem:
    """The second hop's text: the first hop's translation into the pivot language, whole."""
    text = reassemble(into_pivot.gaps, list(into_pivot.segments))
    return replace(item, text=text, source=PIVOT)


def through_pivot(into_pivot: TranslatedText, outcome: TranslatorOutcome) -> TranslatorOutcome:
    """The second hop's outcome, flagged truncated if either hop may have cut the text."""
    if isinstance(outcome, TranslatedText) and into_pivot.truncated and not outcome.truncated:
        return replace(outcome, truncated=True)
    return outcome
