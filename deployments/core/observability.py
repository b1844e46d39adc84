"""Request ids, timing headers and bounded metric tags: the pure parts of observing the graph.

Serve's HTTP proxy already gives every request an id: the caller's ``X-Request-ID`` or a new
UUID, echoed on every response (errors included) and put in the replicas' request context. The
graph checks it before using it in its own log lines and messages; ``request_id_or_new`` is
that check. No Ray here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

REQUEST_ID_HEADER = "x-request-id"
# Sent only when the caller's id could not be used: the id the graph logged this request under.
REPLACED_ID_HEADER = "x-request-id-replaced-by"
MAX_REQUEST_ID_CHARS = 128
# Visible ASCII, no spaces: safe in a log line, a header, a Prometheus-free grep.
_USABLE_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_REQUEST_ID_CHARS}}}")


def usable_request_id(value: str | None) -> bool:
    return value is not None and _USABLE_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return str(uuid.uuid4())


def request_id_or_new(value: str | None) -> tuple[str, bool]:
    """The id to log this request under, and whether it replaced the caller's (unusable) one."""
    if value is not None and usable_request_id(value):
        return value, False
    return new_request_id(), value is not None


def timing_headers(
    total_s: float, queue_s: float | None = None, model_s: float | None = None
) -> list[tuple[bytes, bytes]]:
    """``X-Total-Time-Ms`` (and queue and model time when the request reached the model), plus
    the same as ``Server-Timing``, which browsers' network panels and curl users can read."""
    parts = [("total", total_s)]
    headers = [(b"x-total-time-ms", _ms(total_s))]
    if queue_s is not None and model_s is not None:
        headers += [(b"x-queue-time-ms", _ms(queue_s)), (b"x-model-time-ms", _ms(model_s))]
        parts = [("queue", queue_s), ("model", model_s), *parts]
    server_timing = ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in parts)
    headers.append((b"server-timing", server_timing.encode()))
    return headers


def _ms(seconds: float) -> bytes:
    return f"{seconds * 1000:.1f}".encode()


def critical_timing(timings: Iterable[tuple[float, float] | None]) -> tuple[float, float] | None:
    """A request's (queue, model) seconds: those of its text that finished last.

    A request's texts may ride in different model calls; reporting the longest queue wait of
    one and the longest model call of another could add up to more than the request took. The
    text with the largest queue + model time is on the request's critical path, so its two
    figures fit inside the total.
    """
    known = [t for t in timings if t is not None]
    return max(known, key=lambda t: t[0] + t[1]) if known else None


# Metric tags must stay few: a target the caller made up must not become a new time series.
OTHER_TARGET = "other"
NO_TARGET = "none"


def target_tag(target: str | None, known_targets: Iterable[str]) -> str:
    if target is None:
        return NO_TARGET
    return target if target in known_targets else OTHER_TARGET
