"""The ingress deployment: admits, validates and batches texts for the Translator.

It holds no model, only two handles. Every text of every request goes through one
``@serve.batch`` helper, which awaits the Translator's answer for the whole batch and sends the
texts and their translations on to the postprocessor. Around that: a bound on the texts in
flight (deployments/batching/admission.py), a deadline per request, one retry when a replica
dies under a batch (translation is idempotent; deployments/batching/pending.py). The HTTP layer
(error bodies, API keys, request ids, timing headers) is deployments/http/.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from ray import serve
from ray.exceptions import RayActorError
from ray.serve.context import _get_serve_request_context
from ray.serve.handle import DeploymentHandle

from deployments.batching.admission import AdmissionControl
from deployments.batching.pending import Pending, Sent, batch_failure, one_result, unless_all_gone
from deployments.core.errors import (
    DeadlineExceeded,
    Overloaded,
    ServiceNotReady,
    TemporarilyUnavailable,
    TranslationFailed,
    TranslationServiceError,
    UnsupportedTarget,
)
from deployments.core.messages import (
    API_SOURCE,
    FinalOutcome,
    ReplicaModels,
    TextItem,
    TranslatedBatch,
    TranslatedText,
    TranslatorOutcome,
)
from deployments.core.metrics import AdmissionMetrics
from deployments.core.observability import (
    critical_timing,
    request_id_or_new,
    target_tag,
)
from deployments.core.settings import IngressSettings
from deployments.http import deepl, libretranslate
from deployments.http.answer import Answer
from deployments.http.app import (
    DEEPL_TRANSLATE_OPENAPI,
    TRANSLATE_OPENAPI,
    TimeoutHeader,
    answers,
    api,
    deepl_answers,
    read_payload,
)
from deployments.http.documents import MarkupOptions, parse_documents
from deployments.http.errors import Dialect, error_answer
from deployments.http.middleware import Trace, trace_of
from deployments.http.native import (
    HealthResponse,
    ModelHealth,
    TranslateRequest,
    error_responses,
)
from deployments.http.validation import request_timeout, validate_request, wants_memory
from deployments.routing.catalog import (
    Catalog,
    Pair,
    Route,
    hop_item,
    pivot_item,
    through_pivot,
)
from deployments.text.detection import Detection
from deployments.text.sources import AUTO, Sources, resolve_sources

logger = logging.getLogger("ray.serve")


def _translated(outcome: TranslatorOutcome | None) -> bool:
    return isinstance(outcome, TranslatedText)


def _node_metrics_port() -> int | None:
    """The Prometheus port of the Ray node this replica runs on (each node exports its own)."""
    try:
        import ray

        node_id = ray.get_runtime_context().get_node_id()
        for node in ray.nodes():
            if node.get("NodeID") == node_id:
                return node.get("MetricsExportPort")
    except Exception:  # not in a cluster (unit tests), or the GCS is slow to answer
        logger.warning("could not learn this node's metrics port", exc_info=True)
    return None


def _error(error: TranslationServiceError, dialect: Dialect, trace: Trace) -> JSONResponse:
    """``error`` answered in ``dialect`` (raised errors are answered in ours, by the app)."""
    trace.code = error.code
    reply = error_answer(error, dialect)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


def _memory_summary(described: dict[str, Any], replicas: list[dict[str, Any]]) -> dict[str, Any]:
    """The translation memory: its bound and the entries of the replica that answered; the
    lookups of every Translator replica heard from, as each last said."""
    hits = sum(replica["memory_hits"] for replica in replicas)
    misses = sum(replica["memory_misses"] for replica in replicas)
    return {
        "max_entries_per_model": described["max_entries_per_model"],
        "entries": described["entries"],
        "hits": hits,
        "misses": misses,
        "hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# How old the routing catalog may grow before the next request refreshes it (in the background):
# a model added or removed by a redeploy is routed within this.
CATALOG_MAX_AGE_S = 5.0
# A source or pair the catalog does not have asks the Translator again, at most this often.
CATALOG_MIN_AGE_S = 1.0
# /info lists the Translator replicas heard from within this.
REPLICA_SEEN_WITHIN_S = 120.0


# Serve pickles the class when the decorator runs, with the module globals defined so far:
# everything the methods use must be defined above this line.
# max_ongoing_requests far above max_batch_size (Serve's default of 5 would cap every batch at
# 5) and above the admission bound, so requests reach the ingress instead of waiting unseen in
# Serve's queue in front of it.
@serve.deployment(
    ray_actor_options={"num_cpus": 0.25, "num_gpus": 0},
    max_ongoing_requests=1024,
    max_queued_requests=1024,
)
@serve.ingress(api)
class TranslationIngress:
    def __init__(self, translator: DeploymentHandle, postprocessor: DeploymentHandle) -> None:
        self._translator = translator
        self._postprocessor = postprocessor
        self._settings = IngressSettings()
        self._admission = AdmissionControl(self._settings.max_pending_texts)
        self._configure_admission()
        # Targets seen to work (from /health, /info, /languages, answers): metric tags only.
        self._known_targets: set[str] = set()
        # Which model serves which pair, and what is pivoted, as the Translator last described.
        self._catalog = Catalog()
        self._catalog_at = 0.0
        self._refreshing: asyncio.Task | None = None
        # Each Translator replica's models, from its answers: replica id -> (when, models).
        self._replicas: dict[str, tuple[float, ReplicaModels]] = {}
        self._handles: dict[str, DeploymentHandle] = {}
        self._refusals = AdmissionMetrics().refusals
        self._metrics_port = _node_metrics_port()
        # Characters this replica translated through DeepL's API, for its /v2/usage.
        self._deepl_characters = 0

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        self._settings = IngressSettings.model_validate(user_config)
        self._configure_admission()
        batcher: Any = self._translate_batch  # @serve.batch's wrapper, typed as the method
        batcher.set_max_batch_size(self._settings.max_batch_size)
        batcher.set_batch_wait_timeout_s(self._settings.batch_wait_timeout_s)

    def _configure_admission(self) -> None:
        admission, settings = self._admission, self._settings
        admission.max_pending = settings.max_pending_texts
        admission.max_queue_wait_s = settings.max_queue_wait_s
        # One batch's worth waits for at most one model call; before any rate is known it is
        # the limit (with no wait bound configured, only deadlines and max_pending_texts hold).
        bounded = settings.max_queue_wait_s is not None
        admission.one_call_texts = settings.max_batch_size if bounded else None

    # The Python API: serve.get_app_handle("translation").translate.remote(text, target="fr").
    async def translate(
        self,
        text: str | list[str],
        target: str = "fr",
        timeout_s: float | None = None,
        source: str = API_SOURCE,
        format: str = "text",
        cache: bool = True,
    ) -> str | list[str]:
        payload = {
            "text": text,
            "target": target,
            "source": source,
            "format": format,
            "cache": cache,
        }
        request = validate_request(payload, self._settings.limits)
        timeout = self._timeout(None if timeout_s is None else str(timeout_s))
        # Serve's request context has the caller's request id (or a new one) here too.
        trace = Trace(request_id_or_new(_get_serve_request_context().request_id)[0])
        answer = await self._translate_any(request, timeout, trace)
        return answer.translation

    @api.post(
        "/translate",
        responses=answers(400, 401, 403, 413, 422, 429, 500, 503, 504),
        openapi_extra=TRANSLATE_OPENAPI,
    )
    async def post_translate(
        self, request: Request, x_request_timeout: TimeoutHeader = None
    ) -> JSONResponse:
        """Translate one text or a list of texts.

        Ours: ``{"text": str | [str], "target": "fr"}`` answers ``{"translation": ...}``.
        LibreTranslate's (JSON or form): ``{"q": str | [str], "source": "en", "target": "fr"}``
        answers ``{"translatedText": ...}``, errors as ``{"error": "..."}``.
        """
        trace = trace_of(request.scope)
        payload, form = await read_payload(request)
        if form or libretranslate.is_libretranslate(payload):
            trace.api = Dialect.LIBRETRANSLATE
            memory = wants_memory(request.headers.get("cache-control"))
            return await self._libretranslate(payload, x_request_timeout, trace, memory)
        translate_request = validate_request(payload, self._settings.limits)
        translate_request.cache &= wants_memory(request.headers.get("cache-control"))
        timeout = self._timeout(x_request_timeout)
        answer = await self._translate_any(translate_request, timeout, trace)
        body = {
            "translation": answer.translation,
            **answer.truncated_field(),
            **answer.detected_field(),
        }
        return JSONResponse(body, headers=answer.headers())

    async def _libretranslate(
        self, fields, x_request_timeout, trace: Trace, memory: bool
    ) -> JSONResponse:
        """LibreTranslate's request in, its answer or its error out."""
        try:
            libre = libretranslate.to_request(fields, self._settings.limits)
            libre.request.cache = memory
            timeout = self._timeout(x_request_timeout)
            answer = await self._translate_any(libre.request, timeout, trace)
        except TranslationServiceError as error:
            return _error(error, Dialect.LIBRETRANSLATE, trace)
        body = {
            **libretranslate.answer(answer.translation, libre, answer.detected),
            **answer.truncated_field(),
        }
        return JSONResponse(body, headers=answer.headers())

    @api.post(
        "/v2/translate",
        responses=deepl_answers(400, 403, 404, 413, 429, 500, 503, 504),
        openapi_extra=DEEPL_TRANSLATE_OPENAPI,
        tags=["DeepL API v2"],
    )
    async def deepl_translate(
        self, request: Request, x_request_timeout: TimeoutHeader = None
    ) -> JSONResponse:
        """DeepL's translation: ``text`` (one or many), ``target_lang``, optional
        ``source_lang`` (detected when absent) and ``tag_handling``, as JSON or a form; answers
        ``{"translations": [{"detected_source_language": "EN", "text": ...}]}``."""
        trace = trace_of(request.scope)
        trace.api = Dialect.DEEPL
        try:
            fields = deepl.read_fields(
                await request.body(), request.headers.get("content-type"), request.url.query
            )
            ask = deepl.to_request(fields, self._settings.limits)
            timeout = self._timeout(x_request_timeout)
            translate_request = TranslateRequest.model_construct(
                text=ask.texts,
                target=ask.target,
                source=ask.source,
                cache=wants_memory(request.headers.get("cache-control")),
            )
            if ask.markup is None:
                answer = await self._translate(translate_request, timeout, trace)
            else:
                answer = await self._translate_markup(translate_request, ask.markup, timeout, trace)
        except TranslationServiceError as error:
            return _error(error, Dialect.DEEPL, trace)
        characters = [len(text) for text in ask.texts]
        self._deepl_characters += sum(characters)
        detected = answer.detected
        if detected is not None:
            sources = [d.language for d in detected]
        else:  # named, or (documents without any text) nothing to detect from: ""
            sources = [ask.source if ask.source != AUTO else ""] * len(ask.texts)
        billed = characters if ask.show_billed_characters else None
        body = deepl.answer(cast(list[str], answer.translation), sources, billed)
        return JSONResponse(body, headers=answer.headers())

    # GET and POST, as DeepL's; two routes (one api_route would give both one operation id).
    @api.get(
        "/v2/languages",
        response_model=list[deepl.DeepLLanguage],
        responses=deepl_answers(400, 403, 503),
        tags=["DeepL API v2"],
    )
    @api.post(
        "/v2/languages",
        response_model=list[deepl.DeepLLanguage],
        responses=deepl_answers(400, 403, 503),
        tags=["DeepL API v2"],
    )
    async def deepl_languages(self, request: Request) -> JSONResponse:
        """DeepL's language lists: ``type=source`` (the default) or ``type=target``."""
        trace = trace_of(request.scope)
        trace.api = Dialect.DEEPL
        try:
            fields = deepl.read_fields(
                await request.body(), request.headers.get("content-type"), request.url.query
            )
            kind = deepl.language_kind(fields.get("type"))
            self._learn(await self._describe())
        except TranslationServiceError as error:
            return _error(error, Dialect.DEEPL, trace)
        return JSONResponse(deepl.languages((p.key for p in self._catalog.pairs()), kind))

    @api.get(
        "/v2/usage",
        response_model=deepl.DeepLUsage,
        responses=deepl_answers(403),
        tags=["DeepL API v2"],
    )
    @api.post(
        "/v2/usage",
        response_model=deepl.DeepLUsage,
        responses=deepl_answers(403),
        tags=["DeepL API v2"],
    )
    async def deepl_usage(self, request: Request) -> JSONResponse:
        """DeepL's usage: the characters this ingress replica translated, and no quota."""
        trace_of(request.scope).api = Dialect.DEEPL
        return JSONResponse(deepl.usage(self._deepl_characters))

    @api.post("/", responses=error_responses(401, 413, 422, 500, 503, 504))
    async def post_query(
        self,
        request: Request,
        response: Response,
        text: str,
        target: str = "fr",
        x_request_timeout: TimeoutHeader = None,
    ) -> str:
        """The tutorial's interface: ``POST /?text=Hello%20world!`` answers a JSON string."""
        translate_request = validate_request(
            {"text": text, "target": target}, self._settings.limits
        )
        timeout = self._timeout(x_request_timeout)
        answer = await self._translate(translate_request, timeout, trace_of(request.scope))
        response.headers.update(answer.headers())
        return cast(str, answer.translation)  # one text in, one out

    @api.post(
        "/detect",
        response_model=list[libretranslate.DetectedLanguage],
        responses={
            status: {"model": libretranslate.LibreTranslateError} for status in (400, 403, 503)
        },
    )
    async def detect(self, request: Request) -> JSONResponse:
        """LibreTranslate's detection: ``q`` (JSON or form) in, ``[{"confidence": 97.0,
        "language": "fr"}]`` out, among the languages the served models translate from."""
        trace = trace_of(request.scope)
        trace.api = Dialect.LIBRETRANSLATE
        try:
            payload, _ = await read_payload(request)
            text = libretranslate.detect_request(payload, self._settings.limits)
            sources = await self._resolve_sources(AUTO, [text])
        except TranslationServiceError as error:
            return _error(error, Dialect.LIBRETRANSLATE, trace)
        found = sources.detected or []
        return JSONResponse([libretranslate.detected_language(d) for d in found])

    @api.get(
        "/languages",
        response_model=list[libretranslate.Language],
        responses={503: {"model": libretranslate.LibreTranslateError}},
    )
    async def languages(self) -> JSONResponse:
        """LibreTranslate's language list: each source with its targets, then each target."""
        try:
            model = await self._describe()
        except ServiceNotReady as error:
            return JSONResponse({"error": error.message}, status_code=503)
        self._learn(model)
        return JSONResponse(libretranslate.languages(p.key for p in self._catalog.pairs()))

    @api.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
    async def health(self) -> JSONResponse:
        """200 once the whole graph can translate; 503 (with the reason) before."""
        timeout = self._settings.health_timeout_s
        try:
            model, _ = await asyncio.wait_for(
                asyncio.gather(
                    self._translator.describe.remote(), self._postprocessor.ping.remote()
                ),
                timeout,
            )
        except Exception as error:  # a timeout or a dead replica: not ready either way
            timed_out = isinstance(error, asyncio.TimeoutError)
            detail = "timed out" if timed_out else type(error).__name__
            body = HealthResponse(
                status="unavailable", detail=f"translator/postprocessor: {detail}"
            )
            return JSONResponse(body.model_dump(), status_code=503)
        self._learn(model)
        body = HealthResponse(
            status="ok",
            model=model["model"],
            targets=list(model["targets"]),
            models=[ModelHealth.model_validate(m) for m in model["models"]],
        )
        return JSONResponse(body.model_dump())

    @api.get("/info", responses=error_responses(503))
    async def info(self) -> dict[str, Any]:
        """The models, their pairs (direct and pivoted), what each Translator replica heard
        from has loaded, and the limits and batching now in effect."""
        model = await self._describe()
        self._learn(model)
        settings = self._settings
        catalog = self._catalog
        now = time.monotonic()
        replicas = [
            {**models.as_dict(), "seen_s_ago": round(now - seen, 1)}
            for seen, models in sorted(self._replicas.values(), key=lambda s: s[1].replica)
            if now - seen <= REPLICA_SEEN_WITHIN_S
        ]
        return {
            **model,
            "pivoted": [
                {"pair": pair.key, "through": [hop.pair.key for hop in route.hops]}
                for pair, route in sorted(catalog.pivoted.items())
            ],
            "replicas": replicas,
            "translation_memory": _memory_summary(model["translation_memory"], replicas),
            "limits": settings.limits.model_dump(),
            # Both stages' knobs: the ingress's @serve.batch and the Translator's scheduler.
            "batching": {
                "ingress": {
                    "max_batch_size": settings.max_batch_size,
                    "batch_wait_timeout_s": settings.batch_wait_timeout_s,
                },
                "translator": model["batching"],
            },
            "deadlines": {
                "request_timeout_s": settings.request_timeout_s,
                "max_request_timeout_s": settings.max_request_timeout_s,
            },
            "admission": {
                "max_pending_texts": self._admission.max_pending,
                "max_queue_wait_s": self._admission.max_queue_wait_s,
                "rate_texts_per_s": _rounded(self._admission.rate()),
                "pending_texts": self._admission.pending,
                "refused_requests": self._admission.refused,
            },
            # Prometheus: http://<this node>:<port>/metrics (Ray's exporter, every node its own).
            "metrics": {"port": self._metrics_port, "path": "/metrics"},
        }

    def _timeout(self, header: str | None) -> float:
        settings = self._settings
        return request_timeout(header, settings.request_timeout_s, settings.max_request_timeout_s)

    async def _translate_any(
        self, request: TranslateRequest, timeout_s: float, trace: Trace
    ) -> Answer:
        """Plain texts, or (with ``format`` "html" or "xml") documents."""
        if request.format == "text":
            return await self._translate(request, timeout_s, trace)
        markup = MarkupOptions(request.format)
        return await self._translate_markup(request, markup, timeout_s, trace)

    async def _translate_markup(
        self, request: TranslateRequest, markup: MarkupOptions, timeout_s: float, trace: Trace
    ) -> Answer:
        """Each text a document: its runs of text translated together, as one request's texts
        (so they batch with everyone's), then put back between its tags as written."""
        texts = request.texts
        # Off the event loop: a large document takes a tenth of a second or more to read.
        documents = await asyncio.to_thread(
            parse_documents, texts, markup, self._settings.limits, self._admission.max_pending
        )
        # A document is in one language: "auto" detects it once from all its text.
        with_text = [i for i, document in enumerate(documents) if document.segments]
        joined = [" ".join(documents[i].segments) for i in with_text]
        found = await self._resolve_sources(request.source, joined) if joined else None
        languages = [request.source] * len(texts)
        detected: list[Detection] | None = None
        if found is not None:
            for i, language in zip(with_text, found.languages, strict=True):
                languages[i] = language
            if found.detected is not None:
                first = found.detected[0]
                by_index = dict(zip(with_text, found.detected, strict=True))
                detected = [by_index.get(i, first) for i in range(len(texts))]

        async def one(index: int) -> Answer | None:
            document = documents[index]
            if not document.segments:
                return None
            segments = TranslateRequest.model_construct(
                text=list(document.segments),
                target=request.target,
                source=languages[index],
                cache=request.cache,
            )
            try:
                return await self._translate(segments, timeout_s, trace)
            except TranslationServiceError as error:
                # It names a run of the document; the caller knows its texts, not our runs.
                details = {k: v for k, v in error.details.items() if k != "index"}
                if len(texts) > 1:
                    details["index"] = index
                raise type(error)(error.message, **details) from None

        answers = await asyncio.gather(*(one(i) for i in range(len(texts))))

        def render() -> list[str]:
            return [
                text if answer is None else document.render(cast(list[str], answer.translation))
                for text, document, answer in zip(texts, documents, answers, strict=True)
            ]

        rendered = await asyncio.to_thread(render)
        cut = [i for i, answer in enumerate(answers) if answer is not None and answer.truncated]
        if isinstance(request.text, str):
            return Answer(rendered[0], cut, single=True, detected=detected)
        return Answer(rendered, cut, single=False, detected=detected)

    async def _translate(self, request: TranslateRequest, timeout_s: float, trace: Trace) -> Answer:
        texts = request.texts
        trace.target = target_tag(request.target, self._known_targets)
        sources = await self._resolve_sources(request.source, texts)
        routes = await self._routes(sources.languages, request.target, single=len(texts) == 1)
        try:
            self._admission.admit(len(texts), timeout_s)
        except (Overloaded, TemporarilyUnavailable):
            self._refusals.inc(tags={"target": trace.target})
            raise
        deadline = time.time() + timeout_s
        replicas_lost = self._admission.replicas_lost
        item_of = TextItem  # one attribute lookup, not one per text
        memory = request.cache
        pending = [
            Pending(
                item_of(text, request.target, deadline, trace.request_id, source, memory), route
            )
            for text, source, route in zip(texts, sources.languages, routes, strict=True)
        ]
        completed = False
        try:
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(self._translate_batch(p) for p in pending)), timeout_s
            )
            completed = True
        except TimeoutError:
            if self._admission.replicas_lost != replicas_lost:
                # Late because a replica died under it: say so, and when to come back.
                retry_after = self._admission.retry_after_s()
                raise TemporarilyUnavailable(
                    f"a replica died while this request waited, and its replacement did not "
                    f"answer within the request's deadline of {timeout_s:g} s; retry in "
                    f"{retry_after} s",
                    timeout_s=timeout_s,
                    retry_after_s=retry_after,
                ) from None
            raise DeadlineExceeded(
                f"no translation within this request's deadline of {timeout_s:g} s; "
                "send a longer X-Request-Timeout or fewer texts",
                timeout_s=timeout_s,
            ) from None
        finally:
            self._admission.release(len(texts), completed=completed)
            if not completed:  # timed out, or the client went away (the task was cancelled)
                for p in pending:
                    p.gone.set()
        timing = critical_timing(t for _, t, _ in outcomes)
        if timing is not None:
            trace.queue_s, trace.model_s = timing
        results: list[str] = []
        for index, (outcome, _, _) in enumerate(outcomes):
            if isinstance(outcome, TranslationServiceError):
                if isinstance(request.text, str):
                    raise outcome
                # A copy: one error object may stand for every text of a batch.
                raise type(outcome)(outcome.message, **{"index": index, **outcome.details})
            results.append(outcome)
        if request.target not in self._known_targets:  # it worked, so it is a real target
            self._known_targets.add(request.target)
            trace.target = request.target
        cut = [index for index, (_, _, truncated) in enumerate(outcomes) if truncated]
        if cut:
            logger.warning(
                "request %s: texts %s may be cut (decoding limit)", trace.request_id, cut
            )
        if isinstance(request.text, str):
            return Answer(results[0], cut, single=True, detected=sources.detected)
        return Answer(results, cut, single=False, detected=sources.detected)

    async def _resolve_sources(self, source: str, texts: list[str]) -> Sources:
        """Each text's language (detected for "auto"), among those the models translate from."""
        age = time.monotonic() - self._catalog_at
        unknown = source != AUTO and source not in self._catalog.sources()
        if not self._catalog or (unknown and age > CATALOG_MIN_AGE_S):
            # A source not in the catalog asks the Translator first: a model may have been added.
            self._learn(await self._describe())
        elif age > CATALOG_MAX_AGE_S:
            self._refresh_catalog()
        sources = self._catalog.sources()
        if source != AUTO:
            return resolve_sources(source, texts, sources)
        # Off the event loop: the first detection for a set of languages loads their models.
        return await asyncio.to_thread(resolve_sources, source, texts, sources)

    async def _routes(self, sources: list[str], target: str, *, single: bool) -> list[Route]:
        """The models each text goes through, or a 422 naming the pair and those served. A pair
        not in the catalog asks the Translator again first: a model may have been added."""
        routes: list[Route] = []
        for index, source in enumerate(sources):
            pair = Pair(source, target)
            route = self._catalog.route(pair)
            if route is None and time.monotonic() - self._catalog_at > CATALOG_MIN_AGE_S:
                self._learn(await self._describe())
                route = self._catalog.route(pair)
            if route is None:
                refusal = self._catalog.refusal(pair)
                if not single:
                    refusal.details["index"] = index
                raise refusal
            routes.append(route)
        return routes

    def _refresh_catalog(self) -> None:
        """Ask the Translator for its models in the background; requests go on meanwhile."""
        if self._refreshing is not None and not self._refreshing.done():
            return

        async def refresh() -> None:
            # Not answering: the next request tries again; the old catalog routes meanwhile.
            with contextlib.suppress(ServiceNotReady):
                self._learn(await self._describe())

        self._refreshing = asyncio.get_running_loop().create_task(refresh())

    async def _describe(self) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(
                self._translator.describe.remote(), self._settings.health_timeout_s
            )
        except Exception as error:
            detail = f"the Translator is not answering: {type(error).__name__}"
            raise ServiceNotReady(detail) from None

    def _learn(self, model: dict[str, Any]) -> None:
        """What the Translator serves, from its description: the routes, targets (metric tags),
        and the replica that answered."""
        self._catalog = Catalog.from_models(model["models"])
        self._catalog_at = time.monotonic()
        self._known_targets.update(pair.target for pair in self._catalog.pairs())
        replica = model["replica"]
        self._heard(
            ReplicaModels(
                replica["id"],
                tuple(replica["loaded"]),
                replica["loads"],
                replica["evictions"],
                replica["memory_hits"],
                replica["memory_misses"],
            )
        )

    def _heard(self, models: ReplicaModels | None) -> None:
        if models is not None:
            self._replicas[models.replica] = (time.monotonic(), models)

    # Several batches in flight, so that they queue (and merge) at the Translator, which runs
    # one model call at a time; max_concurrent_batches cannot change at run time.
    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.0, max_concurrent_batches=64)
    async def _translate_batch(
        self, pending: list[Pending]
    ) -> list[tuple[FinalOutcome, tuple[float, float] | None, bool]]:
        """Translator, then postprocessor; every failure comes back as one outcome per text.
        Each outcome comes with the (queue, model) seconds of the model call that ran it, and
        whether its translation may be cut (truncated)."""
        items = [p.item for p in pending]
        # One line per batch, naming its requests: grep a request id to follow it through.
        logger.info(
            "batch of %d texts; requests %s",
            len(items),
            ",".join(dict.fromkeys(item.request_id for item in items)),
        )
        try:
            translated = await self._translate_routed(pending)
            finished = await self._call(
                lambda: self._postprocessor.process_batch.remote(items, translated), pending
            )
        except Exception as error:
            return [(outcome, None, False) for outcome in self._batch_failed(error, items)]
        timing = (finished.queue_s, finished.model_s)
        cut = finished.truncated
        return [(outcome, timing, i in cut) for i, outcome in enumerate(finished.outcomes)]

    async def _translate_routed(self, pending: list[Pending]) -> TranslatedBatch:
        """Each text through its route's models: texts for one model go in one call (with its
        multiplexed id, so Serve picks a replica that holds it), the models' calls at once; a
        pivoted text's second hop takes the first's translation. One outcome per text, in
        order; the times are the slowest chain's."""
        outcomes: list[TranslatorOutcome | None] = [None] * len(pending)
        items = [p.item for p in pending]
        queue_s = model_s = 0.0
        for hop in range(max(len(p.route.hops) for p in pending)):
            by_model: dict[str, list[int]] = {}
            for i, p in enumerate(pending):
                # A later hop only for a text whose previous hop translated it.
                if hop < len(p.route.hops) and (hop == 0 or _translated(outcomes[i])):
                    by_model.setdefault(p.route.hops[hop].model_id, []).append(i)
            if not by_model:
                break
            answers = await asyncio.gather(
                *(
                    self._on_model(
                        model_id,
                        [hop_item(items[i], pending[i].route.hops[hop]) for i in ix],
                        [pending[i] for i in ix],
                    )
                    for model_id, ix in by_model.items()
                )
            )
            for indices, answer in zip(by_model.values(), answers, strict=True):
                for i, outcome in zip(indices, answer.outcomes, strict=True):
                    before = outcomes[i]
                    if isinstance(before, TranslatedText):  # the first hop, into the pivot
                        outcome = through_pivot(before, outcome)
                    outcomes[i] = outcome
                    if isinstance(outcome, TranslatedText) and hop + 1 < len(pending[i].route.hops):
                        items[i] = pivot_item(pending[i].item, outcome)
            queue_s += max(answer.queue_s for answer in answers)
            model_s += max(answer.model_s for answer in answers)
        return TranslatedBatch([o for o in outcomes if o is not None], queue_s, model_s)

    async def _on_model(
        self, model_id: str, items: list[TextItem], pending: list[Pending]
    ) -> TranslatedBatch:
        handle = self._handles.get(model_id)
        if handle is None:
            handle = self._translator.options(multiplexed_model_id=model_id)
            self._handles[model_id] = handle
        answer: TranslatedBatch = await self._call(
            lambda: handle.translate_batch.remote(items), pending
        )
        self._heard(answer.replica)
        if any(isinstance(o, UnsupportedTarget) and "model" in o.details for o in answer.outcomes):
            self._catalog_at = 0.0  # the model was removed: the next request asks again
        return answer

    def _batch_failed(self, error: Exception, items: list[TextItem]) -> list[FinalOutcome]:
        """The outcome each text of a batch gets when the batch as a whole failed."""
        outcome = batch_failure(error, self._admission.retry_after_s)
        if isinstance(outcome, TranslationFailed):
            logger.error("a batch of %d texts failed", len(items), exc_info=error)
        return [outcome] * len(items)

    async def _call(self, send: Callable[[], Sent], pending: list[Pending]) -> Any:
        """One downstream call, retried once if its replica dies (translation is idempotent);
        cancelled if every caller of the batch stops waiting."""
        try:
            return await unless_all_gone(one_result(send()), pending)
        except RayActorError as died:
            logger.warning("a replica died under %d texts (%s); retrying once", len(pending), died)
            self._admission.replica_lost()
            return await unless_all_gone(one_result(send()), pending)
