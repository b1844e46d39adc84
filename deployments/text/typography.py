"""Pure text rules the postprocessor applies to each translated segment.

The decoder writes plain ASCII punctuation with erratic spacing ("Bonjour !" or "Bonjour!",
"l' hôtel", doubled spaces). French typography wants a narrow no-break space (U+202F) before
``; : ! ?`` and guillemets for quotes. Rules are conservative: anything that looks like a time,
a URL or a number is left as it is.
"""

from __future__ import annotations

import re

NARROW_NBSP = "\u202f"

_SPACE_RUN = re.compile(r"[ \t\u00a0\u202f]+")
_SPACE_BEFORE_CLOSING = re.compile(r" +([,.)\]}…!?;:])(?=\s|$|[,.)\]}…!?;:\"»])")
_SPACE_AFTER_OPENING = re.compile(r"([(\[{]) +")
_SPACE_AFTER_ELISION = re.compile(r"\b([cdjlmnst]|qu|jusqu|lorsqu|puisqu)' +(?=\w)", re.IGNORECASE)
# ; : ! ? after a word or closing quote, followed by a space, the end, or more punctuation.
# A colon between two digits (10:30) or before "//" (http://) does not match.
_HIGH_PUNCTUATION = re.compile(r"(?<=[\w\"»)\]'])\s*([;:!?])(?=\s|$|[!?;:.\"»)])")
_STRAIGHT_QUOTED = re.compile(r'"\s*([^"\n]*?)\s*"')


def tidy_spacing(text: str) -> str:
    """Undo the decoder's spacing slips, whatever the language."""
    text = _SPACE_RUN.sub(" ", text).strip()
    text = _SPACE_BEFORE_CLOSING.sub(r"\1", text)
    text = _SPACE_AFTER_OPENING.sub(r"\1", text)
    return text


def french_typography(text: str) -> str:
    """Narrow no-break spaces before ``; : ! ?`` and guillemets around straight-quoted text."""
    text = _SPACE_AFTER_ELISION.sub(r"\1'", text)
    if text.count('"') % 2 == 0:
        text = _STRAIGHT_QUOTED.sub(f"«{NARROW_NBSP}\\1{NARROW_NBSP}»", text)
    text = re.sub(r"«\s*", f"«{NARROW_NBSP}", text)
    text = re.sub(r"\s*»", f"{NARROW_NBSP}»", text)
    return _HIGH_PUNCTUATION.sub(lambda m: NARROW_NBSP + m.group(1), text)


def postprocess_segment(text: str, target: str, *, typography: bool = True) -> str:
    """Everything the postprocessor does to one translated segment."""
    text = tidy_spacing(text)
    if typography and target == "fr":
        text = french_typography(text)
    return text
