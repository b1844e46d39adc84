"""A request's translations as the ingress answers them, with the texts that may be cut."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deployments.text.detection import Detection

# Lists, by index, the texts of a request whose translation reached the decoding limit even
# when translated in pieces (absent when there are none).
TRUNCATED_HEADER = "X-Truncated-Texts"


@dataclass(frozen=True)
class Answer:
    translation: str | list[str]
    # Indices of the texts whose translation may be cut; empty for nearly every request.
    truncated: list[int]
    # One text sent as a string (not a list): its flag is a bool, not a list.
    single: bool
    # The language each text was taken for, when the request asked to detect it.
    detected: list[Detection] | None = None

    def detected_field(self) -> dict[str, Any]:
        """``{"detected_language": ...}`` for a request with source "auto", else nothing."""
        if self.detected is None:
            return {}
        found = [{"language": d.language, "confidence": d.confidence} for d in self.detected]
        return {"detected_language": found[0] if self.single else found}

    def truncated_field(self) -> dict[str, Any]:
        """``{"truncated": ...}`` for the JSON answer when a text may be cut, else nothing."""
        if not self.truncated:
            return {}
        if self.single:
            return {"truncated": True}
        count = len(self.translation)
        return {"truncated": [index in self.truncated for index in range(count)]}

    def headers(self) -> dict[str, str]:
        if not self.truncated:
            return {}
        return {TRUNCATED_HEADER: ",".join(str(index) for index in self.truncated)}
