"""The source language of each text of a request: the one the request names, or, for
``"auto"``, the one detected among the languages the served models translate from."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from deployments.core.errors import UndetectableSource, UnsupportedSource
from deployments.text.detection import Detection, LanguageDetector

AUTO = "auto"


class Sources(NamedTuple):
    languages: list[str]  # one per text
    detected: list[Detection] | None  # one per text, only for "auto"


def resolve_sources(source: str, texts: Sequence[str], offered: Collection[str]) -> Sources:
    """Each text's language, or UnsupportedSource / UndetectableSource saying why not.

    With ``"auto"`` the first call for a set of languages loads their detection models
    (about a second each): call it off the event loop."""
    if source != AUTO:
        if source not in offered:
            served = sorted(offered)
            raise UnsupportedSource(
                f"source {source!r} is not served; sources: {', '.join(served)} (or {AUTO!r})",
                source=source,
                supported=served,
            )
        return Sources([source] * len(texts), None)
    served = sorted(offered)
    detections = LanguageDetector(served).detect(texts)
    for index, detection in enumerate(detections):
        if detection is None:
            single = len(texts) == 1
            raise UndetectableSource(
                f"the language of {'the text' if single else f'text {index}'} could not be "
                f"detected among {', '.join(served)}; name it in source",
                supported=served,
                **({} if single else {"index": index}),
            )
    found = [d for d in detections if d is not None]
    return Sources([d.language for d in found], found)
