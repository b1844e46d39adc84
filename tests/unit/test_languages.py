"""Models' language codes to the API's, and which pairs a configuration selects (pure)."""

from typing import ClassVar

import pytest

from deployments.engines.decoding import Pair
from deployments.engines.families import PairSelection, language_tokens
from deployments.engines.languages import NLLB_TO_ISO, iso_code


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("__de__", "de"),  # M2M100
        ("__en__", "en"),
        ("__ast__", "ast"),  # no ISO 639-1 code: M2M100's own, 639-3
        ("deu_Latn", "de"),  # NLLB
        ("eng_Latn", "en"),
        ("fra_Latn", "fr"),
        ("zho_Hans", "zh"),
        ("zho_Hant", None),  # one script per language
        ("zul_Latn", None),  # not in the table: not offered
        ("<s>", None),
        ("</s>", None),
        ("__de", None),
        ("de", None),
    ],
)
def test_model_language_tokens_map_to_the_apis_codes(token, code):
    assert iso_code(token) == code


def test_the_nllb_table_names_each_language_once_by_its_two_letter_code():
    codes = list(NLLB_TO_ISO.values())
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 2 and code.islower() for code in codes)
    assert all(len(token) == 8 and token[3] == "_" for token in NLLB_TO_ISO)


class M2M100StyleTokenizer:
    lang_code_to_token: ClassVar = {"en": "__en__", "de": "__de__", "xx": "__xx__"}


class NllbStyleTokenizer:
    all_special_tokens: ClassVar = ["<s>", "</s>", "eng_Latn", "deu_Latn", "zul_Latn"]


def test_an_m2m100_tokenizer_is_told_the_code_and_forced_the_token():
    assert language_tokens(M2M100StyleTokenizer()) == {
        "de": ("de", "__de__"),
        "en": ("en", "__en__"),
        "xx": ("xx", "__xx__"),
    }


def test_an_nllb_tokenizer_is_told_and_forced_the_token_and_unmapped_ones_are_left_out():
    assert language_tokens(NllbStyleTokenizer()) == {
        "de": ("deu_Latn", "deu_Latn"),
        "en": ("eng_Latn", "eng_Latn"),
    }


@pytest.mark.parametrize(
    ("selection", "admitted"),
    [
        (PairSelection(), ["en-de", "en-fr", "de-fr", "fr-en"]),
        (PairSelection(source="en"), ["en-de", "en-fr"]),
        (PairSelection(target="fr"), ["en-fr", "de-fr"]),
        (PairSelection(source="en", target="fr"), ["en-fr"]),
        (PairSelection(languages=frozenset({"en", "fr"})), ["en-fr", "fr-en"]),
        (PairSelection(source="de", languages=frozenset({"en", "fr"})), []),
    ],
)
def test_a_selection_admits_the_pairs_it_names(selection, admitted):
    pairs = [Pair("en", "de"), Pair("en", "fr"), Pair("de", "fr"), Pair("fr", "en")]
    assert [pair.key for pair in pairs if selection.admits(pair)] == admitted
