"""The language codes the API speaks (ISO 639-1: "de", "fr", "en"...) from the codes models use.

M2M100's language tokens already hold the ISO code (``__de__``); NLLB's hold ISO 639-3 and a
script (``deu_Latn``), mapped by the table below. A model language the table does not name is
not offered: add it here to serve it.
"""

from __future__ import annotations

import re

# NLLB-200 code -> ISO 639-1. Kept to widely served languages; one script per language.
NLLB_TO_ISO = {
    "arb_Arab": "ar",
    "bul_Cyrl": "bg",
    "ces_Latn": "cs",
    "dan_Latn": "da",
    "deu_Latn": "de",
    "ell_Grek": "el",
    "eng_Latn": "en",
    "est_Latn": "et",
    "fin_Latn": "fi",
    "fra_Latn": "fr",
    "heb_Hebr": "he",
    "hin_Deva": "hi",
    "hun_Latn": "hu",
    "ind_Latn": "id",
    "ita_Latn": "it",
    "jpn_Jpan": "ja",
    "kor_Hang": "ko",
    "lit_Latn": "lt",
    "nld_Latn": "nl",
    "nob_Latn": "nb",
    "pol_Latn": "pl",
    "por_Latn": "pt",
    "ron_Latn": "ro",
    "rus_Cyrl": "ru",
    "slk_Latn": "sk",
    "slv_Latn": "sl",
    "spa_Latn": "es",
    "swe_Latn": "sv",
    "tur_Latn": "tr",
    "ukr_Cyrl": "uk",
    "vie_Latn": "vi",
    "zho_Hans": "zh",
}

# English names, for the language lists of /languages and /v2/languages.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "nb": "Norwegian Bokmål",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_name(code: str) -> str:
    """The English name of an API code; a code not listed is its own name."""
    return LANGUAGE_NAMES.get(code, code)


# M2M100's language tokens: the language's code between double underscores.
_M2M100_TOKEN = re.compile(r"__([a-z]{2,3})__")


def iso_code(language_token: str) -> str | None:
    """The API's code for a model's language token (``__de__`` or ``deu_Latn`` -> ``de``);
    None for a token that names no language the service offers."""
    m2m100 = _M2M100_TOKEN.fullmatch(language_token)
    if m2m100:
        return m2m100.group(1)
    return NLLB_TO_ISO.get(language_token)
