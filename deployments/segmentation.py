"""Cut a text into the pieces the model translates, and put the translations back in place.

A text is its segments (each line's content, without its surrounding spaces) and the gaps around
them (leading and trailing whitespace, line breaks, blank lines). Only segments reach the model;
the gaps come back byte for byte, so a translation keeps its input's layout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# From the first to the last non-space character of one line.
_SEGMENT = re.compile(r"[^\s](?:[^\n]*[^\s])?")


@dataclass(frozen=True)
class SegmentedText:
    """``gaps[0] + segments[0] + gaps[1] + ... + segments[-1] + gaps[-1]`` is the text."""

    segments: tuple[str, ...]
    gaps: tuple[str, ...]


def split_segments(text: str) -> SegmentedText:
    segments, gaps, end = [], [], 0
    for match in _SEGMENT.finditer(text):
        gaps.append(text[end : match.start()])
        segments.append(match.group())
        end = match.end()
    gaps.append(text[end:])
    return SegmentedText(tuple(segments), tuple(gaps))


def reassemble(gaps: Sequence[str], segments: Sequence[str]) -> str:
    """Put ``segments`` (translated) back between the original ``gaps``."""
    if len(gaps) != len(segments) + 1:
        raise ValueError(f"{len(segments)} segments need {len(segments) + 1} gaps, got {len(gaps)}")
    parts = [gaps[0]]
    for segment, gap in zip(segments, gaps[1:], strict=True):
        parts += [segment, gap]
    return "".join(parts)
