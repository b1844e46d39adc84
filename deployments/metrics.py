"""The graph's own Prometheus metrics, defined in one place (the Grafana dashboard's test reads
``EXPORTED`` to check that it queries nothing else).

Created inside each replica (``ray.serve.metrics`` adds the ``deployment``, ``replica`` and
``application`` tags there); every metric also has a ``target`` tag, bounded by
``observability.target_tag``. Ray exports a metric ``name`` as ``ray_<name>``: counters with
``_total``, histograms as ``_bucket``/``_sum``/``_count``. Recorded per batch or per request,
never per token.
"""

from __future__ import annotations

from typing import Any

# name: (kind, description, extra tag keys beyond "target", histogram boundaries)
_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
_TOKENS = [16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768]

DEFINITIONS: dict[str, tuple[str, str, tuple[str, ...], list[float] | None]] = {
    # Translator, per model call and target
    "translation_batch_texts": (
        "histogram",
        "Texts of one target in one model call.",
        (),
        _SIZES,
    ),
    "translation_batch_padded_tokens": (
        "histogram",
        "Padded input tokens (rows x longest row, summed over generate groups) of one target "
        "in one model call.",
        (),
        _TOKENS,
    ),
    "translation_input_tokens": (
        "counter",
        "Input tokens given to generate; kind=real (the lines' own) or padded (with padding).",
        ("kind",),
        None,
    ),
    "translation_model_seconds": (
        "histogram",
        "Seconds of generate for one target in one model call.",
        (),
        _SECONDS,
    ),
    "translation_queue_wait_seconds": (
        "histogram",
        "Seconds from a batch's arrival at the Translator to the start of the model call that "
        "ran it (one observation per arriving batch and target).",
        (),
        _SECONDS,
    ),
    "translation_texts_translated": (
        "counter",
        "Texts translated by the model.",
        (),
        None,
    ),
    "translation_errors": (
        "counter",
        "Texts or requests that failed, by error code (deadline_exceeded, unsupported_target, "
        "overloaded, ...); stage says which deployment gave up on them.",
        ("code", "stage"),
        None,
    ),
    # Ingress, per request
    "translation_requests": (
        "counter",
        "HTTP requests answered by the ingress, by route, API shape and status.",
        ("route", "api", "status"),
        None,
    ),
    "translation_request_seconds": (
        "histogram",
        "Seconds from the ingress receiving a request to its answer (HTTP routes).",
        ("route", "api"),
        _SECONDS,
    ),
    "translation_admission_refusals": (
        "counter",
        "Requests refused at once (503/429) because max_pending_texts were in flight.",
        (),
        None,
    ),
}

# What Prometheus sees: a name the dashboard may query -> the metric defining it.
EXPORTED: dict[str, str] = {}
for _name, (_kind, *_rest) in DEFINITIONS.items():
    _suffixes = ("_total",) if _kind == "counter" else ("_bucket", "_sum", "_count")
    for _suffix in _suffixes:
        EXPORTED[f"ray_{_name}{_suffix}"] = _name


class Metrics:
    """The metrics named, created in this replica; ``metrics.name.inc(...)`` etc."""

    def __init__(self, *names: str) -> None:
        from ray.serve.metrics import Counter, Histogram

        for name in names:
            kind, description, tags, boundaries = DEFINITIONS[name]
            tag_keys = ("target", *tags)
            metric: Any
            if kind == "counter":
                metric = Counter(name, description=description, tag_keys=tag_keys)
            else:
                metric = Histogram(
                    name, description=description, boundaries=boundaries, tag_keys=tag_keys
                )
            setattr(self, name.removeprefix("translation_"), metric)
