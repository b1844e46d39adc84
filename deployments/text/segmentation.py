"""Cut a text into the pieces the model translates, and put the translations back in place.

A text is its segments (the sentences of each line, without surrounding spaces) and the gaps
around them (leading and trailing whitespace, the spaces between sentences, line breaks, blank
lines). Only segments reach the model; the gaps come back byte for byte, so a translation keeps
its input's layout.

Why sentences: t5-small was trained on sentence pairs, reads at most 512 tokens and stops
writing at ``max_length``; a paragraph given whole comes back cut short or with sentences lost.
Sentences also batch better (similar lengths, little padding). A sentence the model still
cannot read whole is cut at spaces (or, with none, anywhere) until every piece fits
(``split_to_fit``); nothing is ever truncated.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pysbd

logger = logging.getLogger(__name__)

# From the first to the last non-space character of one line.
_LINE = re.compile(r"[^\s](?:[^\n]*[^\s])?")
# Sentence-ending punctuation with more text after it: only then can a line hold two sentences
# (CJK full stops need no space after them). Most lines are one sentence, and pysbd costs about
# a millisecond a line, spent in the model's thread: it only sees lines that match.
_INNER_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+\S|[。！？].")
_SPACE_RUN = re.compile(r"\s+")


@dataclass(frozen=True)
class SegmentedText:
    """``gaps[0] + segments[0] + gaps[1] + ... + segments[-1] + gaps[-1]`` is the text."""

    segments: tuple[str, ...]
    gaps: tuple[str, ...]


def split_segments(text: str, *, sentences: bool = True) -> SegmentedText:
    """Lines, and within each line its sentences (English rules, abbreviations included)."""
    segments, gaps, end = [], [], 0
    for line in _LINE.finditer(text):
        for start, stop in _sentence_spans(line.group()) if sentences else [(0, len(line.group()))]:
            gaps.append(text[end : line.start() + start])
            segments.append(text[line.start() + start : line.start() + stop])
            end = line.start() + stop
    gaps.append(text[end:])
    return SegmentedText(tuple(segments), tuple(gaps))


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    """(start, stop) of each sentence of a line, spaces excluded; the whole line if unsure.

    pysbd returns sentence strings; locating each in the line (in order) gives the spans. If the
    segmenter fails or alters the text (it can on odd input), the line stays one segment: a
    missed split costs quality, a wrong span would lose text.
    """
    if not _INNER_SENTENCE_END.search(line):
        return [(0, len(line))]
    try:
        found = pysbd.Segmenter(language="en", clean=False).segment(line)
    except Exception:
        logger.warning("sentence segmenter failed on a %d-character line", len(line))
        return [(0, len(line))]
    spans, cursor = [], 0
    for sentence in found:
        sentence = sentence.strip()
        if not sentence:
            continue
        start = line.find(sentence, cursor)
        if start < 0 or line[cursor:start].strip():
            return [(0, len(line))]
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    if not spans or line[cursor:].strip():
        return [(0, len(line))]
    return spans


def split_to_fit(segment: str, fits: Callable[[str], bool]) -> SegmentedText:
    """Cut ``segment`` into pieces that each ``fits``, at the space nearest its middle.

    For a sentence longer than the model reads: halving keeps the pieces balanced and needs
    only O(log n) calls of ``fits`` per piece. A piece with no space (a 3,000-letter "word",
    CJK without spaces) is cut in the middle of its characters.
    """
    if len(segment) <= 1 or fits(segment):
        return SegmentedText((segment,), ("", ""))
    middle = len(segment) // 2
    spaces = list(_SPACE_RUN.finditer(segment))
    if spaces:
        cut = min(spaces, key=lambda space: abs(space.start() - middle))
        left, gap, right = segment[: cut.start()], cut.group(), segment[cut.end() :]
    else:
        left, gap, right = segment[:middle], "", segment[middle:]
    head, tail = split_to_fit(left, fits), split_to_fit(right, fits)
    return SegmentedText(head.segments + tail.segments, (*head.gaps[:-1], gap, *tail.gaps[1:]))


def splice(text: SegmentedText, index: int, parts: SegmentedText) -> SegmentedText:
    """``text`` with its segment ``index`` replaced by ``parts`` (whose outer gaps join in)."""
    gaps = (
        *text.gaps[:index],
        text.gaps[index] + parts.gaps[0],
        *parts.gaps[1:-1],
        parts.gaps[-1] + text.gaps[index + 1],
        *text.gaps[index + 2 :],
    )
    return SegmentedText(text.segments[:index] + parts.segments + text.segments[index + 1 :], gaps)


def reassemble(gaps: Sequence[str], segments: Sequence[str]) -> str:
    """Put ``segments`` (translated) back between the original ``gaps``."""
    if len(gaps) != len(segments) + 1:
        raise ValueError(f"{len(segments)} segments need {len(segments) + 1} gaps, got {len(gaps)}")
    parts = [gaps[0]]
    for segment, gap in zip(segments, gaps[1:], strict=True):
        parts += [segment, gap]
    return "".join(parts)
