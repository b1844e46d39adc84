"""The translation memory as a pure structure: keys, bound, LRU order, resize, clear, stats."""

from deployments.batching.memory import TranslationMemory
from deployments.core.messages import TextItem, TranslatedText
from deployments.core.settings import TranslatorSettings


def item(text: str, target: str = "fr", source: str = "en") -> TextItem:
    return TextItem(text, target, source=source)


def translated(text: str) -> TranslatedText:
    return TranslatedText(segments=(text,), gaps=("", ""))


def test_a_translation_is_found_by_its_text_and_pair_only():
    memory = TranslationMemory(10)
    memory.put(item("Good night."), translated("Bonne nuit."))
    assert memory.get(item("Good night.")) == translated("Bonne nuit.")
    # Another pair, another text (even by whitespace), another source: not the same entry.
    assert memory.get(item("Good night.", target="de")) is None
    assert memory.get(item("Good night. ")) is None
    assert memory.get(item("Good night.", source="fr")) is None
    stats = memory.stats()
    assert (stats.hits, stats.misses, stats.entries, stats.hit_ratio) == (1, 3, 1, 0.25)


def test_the_least_recently_used_go_first_past_the_bound():
    memory = TranslationMemory(3)
    for text in ("a", "b", "c"):
        memory.put(item(text), translated(text.upper()))
    assert memory.get(item("a")) is not None  # now the most recently used
    memory.put(item("d"), translated("D"))
    assert memory.get(item("b")) is None
    assert [memory.get(item(t)) is not None for t in ("a", "c", "d")] == [True, True, True]
    assert memory.stats().entries == 3


def test_resize_clear_and_off():
    memory = TranslationMemory(5)
    for text in "abcde":
        memory.put(item(text), translated(text))
    memory.resize(2)
    assert memory.stats().entries == 2
    assert memory.get(item("e")) is not None and memory.get(item("a")) is None
    memory.clear()
    assert memory.stats().entries == 0
    off = TranslationMemory(0)
    off.put(item("a"), translated("A"))
    assert off.stats().entries == 0 and off.get(item("a")) is None


def test_no_lookups_no_ratio():
    assert TranslationMemory(1).stats().hit_ratio is None


def test_its_setting_defaults_and_bounds():
    assert TranslatorSettings().translation_memory.max_entries == 20_000
    off = TranslatorSettings.model_validate({"translation_memory": {"max_entries": 0}})
    assert off.translation_memory.max_entries == 0
    for bad in ({"max_entries": -1}, {"entries": 5}):
        try:
            TranslatorSettings.model_validate({"translation_memory": bad})
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
