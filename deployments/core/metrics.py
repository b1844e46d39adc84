"""The graph's own Prometheus metrics, defined in one place (the Grafana dashboard's test reads
``EXPORTED`` to check that it queries nothing else).

Created inside each replica (``ray.serve.metrics`` adds the ``deployment``, ``replica`` and
``application`` tags there); every metric of a text also has a ``target`` tag, bounded by
``observability.target_tag``, and the Translator's a ``model`` tag (the configured model ids).
Ray exports a metric ``name`` as ``ray_<name>``: counters with ``_total``, histograms as
``_bucket``/``_sum``/``_count``. Recorded per batch or per request,
never per token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.serve.metrics import Counter, Gauge, Histogram

# name: (kind, description, tag keys, histogram boundaries)
_SECONDS: list[float] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
_SIZES: list[float] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
_TOKENS: list[float] = [16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768]

DEFINITIONS: dict[str, tuple[str, str, tuple[str, ...], list[float] | None]] = {
    # Translator, per model call and target
    "translation_batch_texts": (
        "histogram",
        "Texts of one target in one model call.",
        ("target", "model"),
        _SIZES,
    ),
    "translation_batch_padded_tokens": (
        "histogram",
        "Padded input tokens (rows x longest row, summed over generate groups) of one target "
        "in one model call.",
        ("target", "model"),
        _TOKENS,
    ),
    "translation_input_tokens": (
        "counter",
        "Input tokens given to generate; kind=real (the lines' own) or padded (with padding).",
        ("target", "model", "kind"),
        None,
    ),
    "translation_model_seconds": (
        "histogram",
        "Seconds of generate for one target in one model call.",
        ("target", "model"),
        _SECONDS,
    ),
    "translation_queue_wait_seconds": (
        "histogram",
        "Seconds from a batch's arrival at the Translator to the start of the model call that "
        "ran it (one observation per arriving batch and target).",
        ("target", "model"),
        _SECONDS,
    ),
    "translation_texts_translated": (
        "counter",
        "Texts translated by the model.",
        ("target", "model"),
        None,
    ),
    "translation_errors": (
        "counter",
        "Texts or requests that failed, by error code (deadline_exceeded, unsupported_target, "
        "overloaded, ...); stage says which deployment gave up on them.",
        ("target", "code", "stage"),
        None,
    ),
    # Translator, per model (multiplexed: loaded on demand, least recently used unloaded)
    "translation_model_loads": (
        "counter",
        "Model loads on a Translator replica; outcome=loaded or failed.",
        ("model", "outcome"),
        None,
    ),
    "translation_model_evictions": (
        "counter",
        "Models unloaded from a replica to make room for another (max_models_per_replica) or "
        "removed from the config.",
        ("model",),
        None,
    ),
    "translation_model_load_seconds": (
        "histogram",
        "Seconds to load a model (weights and warm-up) on a Translator replica.",
        ("model",),
        _SECONDS,
    ),
    # Translator, translation memory (deployments/batching/memory.py)
    "translation_memory_lookups": (
        "counter",
        "Texts looked up in a model's translation memory; outcome=hit (answered without the "
        "model) or miss.",
        ("model", "outcome"),
        None,
    ),
    "translation_memory_entries": (
        "gauge",
        "Translations held in a model's translation memory on a Translator replica.",
        ("model",),
        None,
    ),
    # Ingress, per request
    "translation_requests": (
        "counter",
        "HTTP requests answered by the ingress, by route, API shape and status.",
        ("target", "route", "api", "status"),
        None,
    ),
    "translation_request_seconds": (
        "histogram",
        "Seconds from the ingress receiving a request to its answer (HTTP routes).",
        ("target", "route", "api"),
        _SECONDS,
    ),
    "translation_admission_refusals": (
        "counter",
        "Requests refused at once (503/429) because max_pending_texts were in flight.",
        ("target",),
        None,
    ),
}

# What Prometheus sees: a name the dashboard may query -> the metric defining it.
EXPORTED: dict[str, str] = {}
for _name, (_kind, *_rest) in DEFINITIONS.items():
    _suffixes = {"counter": ("_total",), "gauge": ("",)}.get(_kind, ("_bucket", "_sum", "_count"))
    for _suffix in _suffixes:
        EXPORTED[f"ray_{_name}{_suffix}"] = _name


def _make(name: str) -> Any:
    """The metric ``name`` as DEFINITIONS describes it, created in this replica."""
    from ray.serve.metrics import Counter, Gauge, Histogram

    kind, description, tags, boundaries = DEFINITIONS[name]
    tag_keys: Any = tags  # Ray annotates tag_keys as a one-element tuple
    if kind == "counter":
        return Counter(name, description=description, tag_keys=tag_keys)
    if kind == "gauge":
        return Gauge(name, description=description, tag_keys=tag_keys)
    return Histogram(name, description=description, boundaries=boundaries or [], tag_keys=tag_keys)


class TranslatorMetrics:
    """The Translator's metrics: per model call, target and model; per model load."""

    def __init__(self) -> None:
        self.batch_texts: Histogram = _make("translation_batch_texts")
        self.batch_padded_tokens: Histogram = _make("translation_batch_padded_tokens")
        self.input_tokens: Counter = _make("translation_input_tokens")
        self.model_seconds: Histogram = _make("translation_model_seconds")
        self.queue_wait_seconds: Histogram = _make("translation_queue_wait_seconds")
        self.texts_translated: Counter = _make("translation_texts_translated")
        self.errors: Counter = _make("translation_errors")
        self.model_loads: Counter = _make("translation_model_loads")
        self.model_evictions: Counter = _make("translation_model_evictions")
        self.model_load_seconds: Histogram = _make("translation_model_load_seconds")
        self.memory_lookups: Counter = _make("translation_memory_lookups")
        self.memory_entries: Gauge = _make("translation_memory_entries")


class IngressMetrics:
    """The ingress's metrics: per request."""

    def __init__(self) -> None:
        self.requests: Counter = _make("translation_requests")
        self.request_seconds: Histogram = _make("translation_request_seconds")
        self.errors: Counter = _make("translation_errors")


class AdmissionMetrics:
    """The ingress's admission control (made apart from IngressMetrics, in the deployment)."""

    def __init__(self) -> None:
        self.refusals: Counter = _make("translation_admission_refusals")
