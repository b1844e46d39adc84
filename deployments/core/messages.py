"""What the deployments hand each other, one entry per text of a batch.

Failures travel as values in their slot, not as raised exceptions: an exception in a batch call
would fail every request in the batch, and one bad text must fail only its own request.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployments.core.errors import TranslationServiceError
from deployments.text.segmentation import SegmentedText

# A text's language when the caller names none (the tutorial's API translated from English).
API_SOURCE = "en"


@dataclass(frozen=True)
class TextItem:
    """One text to translate: the unit ``@serve.batch`` collects."""

    text: str
    target: str
    # Wall-clock time (time.time()) after which nobody waits for this text; None: no deadline.
    deadline: float | None = None
    # The request's id (X-Request-ID), so the Translator's and postprocessor's log lines for a
    # batch name the requests in it.
    request_id: str = ""
    # The text's language.
    source: str = API_SOURCE
    # Whether the Translator may answer it from its translation memory (the request's opt-out).
    memory: bool = True


@dataclass(frozen=True)
class TranslatedText(SegmentedText):
    """The translated segments between the input's own gaps. ``truncated``: a segment's
    translation reached the decoding limit even when translated in pieces, so it may be cut."""

    truncated: bool = False


# The Translator answers each TextItem with its TranslatedText, or the error that belongs to
# that text alone.
TranslatorOutcome = TranslatedText | TranslationServiceError
# The postprocessor answers each with the finished translation, or passes the error through.
FinalOutcome = str | TranslationServiceError


@dataclass(frozen=True)
class ReplicaModels:
    """The models one Translator replica holds (least recently used first), and how many it has
    loaded and unloaded: every answer carries it, so the ingress can report every replica."""

    replica: str
    loaded: tuple[str, ...]
    loads: int
    evictions: int
    # Texts answered from its translation memory, and looked up there in vain.
    memory_hits: int = 0
    memory_misses: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.replica,
            "loaded": list(self.loaded),
            "loads": self.loads,
            "evictions": self.evictions,
            "memory_hits": self.memory_hits,
            "memory_misses": self.memory_misses,
        }


@dataclass(frozen=True)
class TranslatedBatch:
    """The Translator's answer to one batch: an outcome per item, and where the time went (the
    batch ran in one model call, so one figure each for all its items)."""

    outcomes: list[TranslatorOutcome]
    # From the batch's arrival at the Translator to the start of its model call.
    queue_s: float
    # That model call, start to end.
    model_s: float
    # The replica that answered, and its models.
    replica: ReplicaModels | None = None


@dataclass(frozen=True)
class FinishedBatch:
    """The postprocessor's answer: the final outcomes, the Translator's timings passed on."""

    outcomes: list[FinalOutcome]
    queue_s: float
    model_s: float
    # Indices of the outcomes whose translation may be cut (TranslatedText.truncated).
    truncated: frozenset[int] = frozenset()
