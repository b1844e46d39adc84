"""What the deployments hand each other, one entry per text of a batch.

Failures travel as values in their slot, not as raised exceptions: an exception in a batch call
would fail every request in the batch, and one bad text must fail only its own request.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployments.errors import TranslationServiceError
from deployments.segmentation import SegmentedText


@dataclass(frozen=True)
class TextItem:
    """One text to translate: the unit ``@serve.batch`` collects."""

    text: str
    target: str
    # Wall-clock time (time.time()) after which nobody waits for this text; None: no deadline.
    deadline: float | None = None


# The Translator answers each TextItem with the translated segments between the original gaps,
# or the error that belongs to that text alone.
TranslatorOutcome = SegmentedText | TranslationServiceError
# The postprocessor answers each with the finished translation, or passes the error through.
FinalOutcome = str | TranslationServiceError
