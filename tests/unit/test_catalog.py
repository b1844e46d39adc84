"""Routing by language pair: which model serves a pair, which pairs go through English."""

import pytest

from deployments.core.errors import UnsupportedTarget
from deployments.core.messages import TextItem, TranslatedText
from deployments.routing.catalog import (
    Catalog,
    Hop,
    Pair,
    hop_item,
    parse_pair,
    pivot_item,
    through_pivot,
)

# The offline demo's three models (configs/local.yaml).
DEMO = [
    ("phrasebook-t5", [Pair("en", "de"), Pair("en", "fr")]),
    ("phrasebook-marian", [Pair("fr", "en")]),
    ("phrasebook-m2m100", [Pair("de", "en"), Pair("de", "fr")]),
]


def test_each_served_pair_goes_to_its_model_in_one_hop():
    catalog = Catalog(DEMO)
    route = catalog.route(Pair("de", "fr"))
    assert route is not None and not route.pivoted
    assert route.hops == (Hop("phrasebook-m2m100", Pair("de", "fr")),)
    assert catalog.route(Pair("fr", "en")).hops == (Hop("phrasebook-marian", Pair("fr", "en")),)


def test_a_pair_no_model_serves_goes_through_english_when_both_halves_are_served():
    catalog = Catalog(DEMO)
    route = catalog.route(Pair("fr", "de"))
    assert route is not None and route.pivoted
    assert route.hops == (
        Hop("phrasebook-marian", Pair("fr", "en")),
        Hop("phrasebook-t5", Pair("en", "de")),
    )
    # de -> fr is served directly, so it is never pivoted; nothing pivots into its own source.
    assert set(catalog.pivoted) == {Pair("fr", "de")}


def test_pairs_sources_and_targets_include_the_pivoted():
    catalog = Catalog(DEMO)
    assert [p.key for p in catalog.pairs()] == [
        "de-en",
        "de-fr",
        "en-de",
        "en-fr",
        "fr-de",
        "fr-en",
    ]
    assert catalog.sources() == {"de", "en", "fr"}
    assert catalog.targets("fr") == ["de", "en"]


def test_the_first_model_listed_serves_a_pair_two_models_offer():
    catalog = Catalog([("a", [Pair("en", "fr")]), ("b", [Pair("en", "fr"), Pair("en", "de")])])
    assert catalog.route(Pair("en", "fr")).hops[0].model_id == "a"
    assert catalog.route(Pair("en", "de")).hops[0].model_id == "b"


def test_an_unroutable_pair_is_refused_naming_it_and_the_served_pairs():
    catalog = Catalog(DEMO)
    assert catalog.route(Pair("fr", "es")) is None
    refusal = catalog.refusal(Pair("fr", "es"))
    assert isinstance(refusal, UnsupportedTarget)
    assert "fr-es" in refusal.message and "fr-de" in refusal.message
    assert refusal.details["supported"] == ["de", "en"]
    assert "en-fr" in refusal.details["pairs"]


def test_without_an_english_pair_nothing_is_pivoted():
    catalog = Catalog([("m", [Pair("de", "fr"), Pair("fr", "de")])])
    assert catalog.pivoted == {}
    assert catalog.route(Pair("de", "it")) is None


def test_from_the_translators_description():
    catalog = Catalog.from_models(
        [{"id": "t5", "pairs": ["en-fr"]}, {"id": "m", "pairs": ["fr-en"]}]
    )
    assert catalog.direct == {Pair("en", "fr"): "t5", Pair("fr", "en"): "m"}
    assert parse_pair("de-en") == Pair("de", "en")
    assert not Catalog()


def test_the_second_hop_reads_the_whole_first_translation_and_keeps_a_cut_flag():
    item = TextItem("Bonjour. Merci.", "de", source="fr", request_id="r")
    english = TranslatedText(("Hello.", "Thank you."), ("", " ", "\n"), truncated=True)
    second = pivot_item(item, english)
    assert (second.text, second.source, second.target, second.request_id) == (
        "Hello. Thank you.\n",
        "en",
        "de",
        "r",
    )
    german = TranslatedText(("Hallo.", "Danke."), ("", " ", "\n"))
    assert through_pivot(english, german).truncated
    assert not through_pivot(TranslatedText(("Hello.",), ("", "")), german).truncated


@pytest.mark.parametrize("key", ["en-fr", "de-en"])
def test_pair_keys_round_trip(key):
    assert parse_pair(key).key == key


def test_each_hop_asks_its_model_for_its_own_pair():
    item = TextItem("Bonjour.", "de", source="fr")
    first, second = Catalog(DEMO).route(Pair("fr", "de")).hops
    assert (hop_item(item, first).source, hop_item(item, first).target) == ("fr", "en")
    english = pivot_item(item, TranslatedText(("Hello.",), ("", "")))
    assert hop_item(english, second) is english  # already en -> de
    direct = TextItem("Hello.", "fr", source="en")
    assert hop_item(direct, Hop("phrasebook-t5", Pair("en", "fr"))) is direct
