"""A translation memory: texts a model has already translated, answered without the model.

Real traffic repeats itself (UI strings, subtitles, navigation, the same page for many
readers). Each loaded model keeps its own memory, so the key needs only what else changes the
output: the pair and the text. The model, its files, engine, compute type and device are the
loaded model's own (a change reloads it, with an empty memory), and a change of its decoding
clears it (deployments/translator.py). A text's translation does not depend on the texts batched
with it (a tested guarantee), so an answer from memory is the answer the model would give.
Bounded by entries, least recently used out first. Pure: no Ray.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from deployments.core.messages import TextItem, TranslatedText


@dataclass
class MemoryStats:
    hits: int = 0
    misses: int = 0
    entries: int = 0

    @property
    def hit_ratio(self) -> float | None:
        looked_up = self.hits + self.misses
        return round(self.hits / looked_up, 4) if looked_up else None


class TranslationMemory:
    """``(source, target, text) -> TranslatedText``, at most ``max_entries`` (0: off).

    Used from the replica's event loop only, so it takes no lock."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, str], TranslatedText] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, item: TextItem) -> TranslatedText | None:
        found = self._entries.get((item.source, item.target, item.text))
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end((item.source, item.target, item.text))
        self.hits += 1
        return found

    def put(self, item: TextItem, translated: TranslatedText) -> None:
        if self.max_entries <= 0:
            return
        key = (item.source, item.target, item.text)
        self._entries[key] = translated
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def resize(self, max_entries: int) -> None:
        self.max_entries = max_entries
        while len(self._entries) > max(max_entries, 0):
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def stats(self) -> MemoryStats:
        return MemoryStats(self.hits, self.misses, len(self._entries))
