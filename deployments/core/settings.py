"""Each deployment's ``user_config``, validated; a bad value refuses the deploy, loudly.

Serve hands ``user_config`` to ``reconfigure`` at start and again on every ``serve deploy`` that
changes it, so everything here applies without a restart (a new ``model`` reloads it in place).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    model_validator,
)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestLimits(_Settings):
    max_chars_per_text: PositiveInt = 5_000
    max_texts_per_request: PositiveInt = 64
    max_chars_per_request: PositiveInt = 50_000
    # A markup document is parsed whole: its size, tags included (the limits above count the
    # text to translate in it).
    max_markup_chars_per_text: PositiveInt = 200_000


class IngressSettings(_Settings):
    """Validation limits and the ``@serve.batch`` knobs of the ingress.

    The ingress's batch only gathers the texts that arrive together; the Translator merges
    the batches queued behind a busy model (TranslatorBatching). So the default wait is 0: a
    lone request never waits for company here.
    """

    limits: RequestLimits = RequestLimits()
    max_batch_size: PositiveInt = 32
    batch_wait_timeout_s: float = Field(0.0, ge=0, le=5)
    # How long /health waits for the Translator and postprocessor before saying 503.
    health_timeout_s: float = Field(2.0, gt=0, le=60)
    # Each request's deadline unless it sends X-Request-Timeout (seconds, up to the maximum).
    request_timeout_s: float = Field(30.0, gt=0)
    max_request_timeout_s: float = Field(300.0, gt=0)
    # A request is admitted only if the texts ahead of it and its own should be done within
    # this (and its deadline), at the rate the graph has been completing texts; else a fast
    # 503 + Retry-After. None: no such bound.
    max_queue_wait_s: float | None = Field(10.0, gt=0)
    # Texts admitted into the graph at once (per ingress replica), a backstop; past it, 503.
    max_pending_texts: PositiveInt = 128

    @model_validator(mode="after")
    def _default_timeout_within_maximum(self) -> IngressSettings:
        if self.request_timeout_s > self.max_request_timeout_s:
            raise ValueError("request_timeout_s must not exceed max_request_timeout_s")
        return self


class DecodingSettings(_Settings):
    """``generate`` settings that override the checkpoint's ``task_specific_params``.

    Unset fields keep the checkpoint's value (t5-small: 4 beams, max_length 300, early stopping).
    """

    num_beams: PositiveInt | None = None
    max_length: PositiveInt | None = None
    min_length: int | None = Field(None, ge=0)
    max_new_tokens: PositiveInt | None = None
    early_stopping: bool | None = None
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = Field(None, ge=0)
    repetition_penalty: float | None = Field(None, gt=0)

    def overrides(self) -> dict:
        return self.model_dump(exclude_none=True)


class TranslationMemorySettings(_Settings):
    """Texts already translated, answered without the model (deployments/batching/memory.py)."""

    # Per loaded model; least recently used out first. 0: no memory.
    max_entries: NonNegativeInt = 20_000


class TranslatorBatching(_Settings):
    """How the Translator turns queued texts into model calls (deployments/batching/)."""

    # Texts per model call: the batches queued while the model is busy are merged up to this.
    max_batch_size: PositiveInt = 32
    # When the model is free but fewer texts are queued than the last call carried, wait at most
    # this long for the rest (a lone client's next request never waits).
    max_wait_s: float = Field(0.3, ge=0, le=5)
    # Padded input tokens per generate (rows x longest row). Lines are sorted by length and cut
    # into groups under this, so one long line does not make short ones pay for its padding.
    max_batch_tokens: PositiveInt = 8192
    # torch: the encoder runs in length-sorted groups of this many, each padded to its own
    # longest, the decoder once over all (0: one encoder pass; ctranslate2 ignores it).
    encoder_group_size: NonNegativeInt = 8


# CTranslate2 weight types (docs/engines.md); the GPU ones are refused on cpu.
ComputeType = Literal["int8", "int8_float32", "float32", "float16", "int8_float16"]
GPU_COMPUTE_TYPES = ("float16", "int8_float16")
CPU_COMPUTE_TYPES = tuple(t for t in get_args(ComputeType) if t not in GPU_COMPUTE_TYPES)


EngineFactoryPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")]
# A language as the API names it: ISO 639-1 ("de"), or 639-3 where there is no 639-1 code.
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]

# Keys older configs used: refused with what to write instead, not just "extra field".
RETIRED_KEYS = {
    "backend": "renamed to engine",
    "torch_threads": "renamed to threads",
    "realtime_model_thread": "removed: the model thread runs under the normal scheduler",
}


# A model's name in the Translator's config, in /info, in metrics and as Serve's multiplexed id.
ModelId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][\w.-]{0,63}$")]


class ModelSettings(_Settings):
    """One checkpoint the Translator serves: where it comes from, where it runs, how it decodes,
    and (where the checkpoint does not declare them) its language pairs."""

    # Defaults to the checkpoint's last path component ("t5-small", "opus-mt-fr-en").
    id: ModelId = ""
    model: str = Field("t5-small", min_length=1, description="Hub id or local folder.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    # torch: the seed's exact output; ctranslate2: the checkpoint converted (and cached) on first
    # load, run with compute_type, which ctranslate2 needs and torch refuses (torch uses dtype).
    # Or "package.module:factory", a callable (settings, device) -> Engine: an engine of one's own.
    engine: Literal["torch", "ctranslate2"] | EngineFactoryPath = "torch"
    compute_type: ComputeType | None = None
    decoding: DecodingSettings = DecodingSettings()
    # The language pair of a checkpoint that does not declare its own (Marian: both needed);
    # with any other checkpoint, only the pairs from source / into target are served.
    source: LanguageCode | None = None
    target: LanguageCode | None = None
    # Only pairs between these languages (an M2M100 or NLLB checkpoint knows up to 200).
    languages: tuple[LanguageCode, ...] | None = Field(None, min_length=2)

    @model_validator(mode="before")
    @classmethod
    def _no_retired_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            retired = [f"{key} ({RETIRED_KEYS[key]})" for key in RETIRED_KEYS if key in data]
            if retired:
                raise ValueError(f"retired setting(s): {', '.join(retired)}")
        return data

    @model_validator(mode="before")
    @classmethod
    def _id_from_the_checkpoint(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            model = str(data.get("model") or cls.model_fields["model"].default)
            return {**data, "id": model.rstrip("/").rsplit("/", 1)[-1]}
        return data

    @model_validator(mode="after")
    def _half_precision_needs_cuda(self) -> ModelSettings:
        if self.dtype == "float16" and self.device == "cpu":
            raise ValueError("dtype float16 needs device cuda (or auto on a GPU replica)")
        return self

    @model_validator(mode="after")
    def _compute_type_goes_with_ctranslate2(self) -> ModelSettings:
        if self.engine == "torch" and self.compute_type is not None:
            raise ValueError(
                f"compute_type {self.compute_type} applies to engine ctranslate2; "
                "engine torch uses dtype"
            )
        if self.engine == "ctranslate2":
            if self.compute_type is None:
                raise ValueError(
                    f"engine ctranslate2 needs compute_type: {', '.join(CPU_COMPUTE_TYPES)}; "
                    f"on cuda also {', '.join(GPU_COMPUTE_TYPES)}"
                )
            if self.dtype != "float32":
                raise ValueError(
                    f"dtype {self.dtype} is torch's; engine ctranslate2 uses compute_type"
                )
            if self.compute_type in GPU_COMPUTE_TYPES and self.device == "cpu":
                raise ValueError(f"compute_type {self.compute_type} needs device cuda")
        return self

    def load_key(self, threads: int | None = None) -> tuple:
        """The settings that need the model reloaded when they change (ctranslate2 fixes its
        threads at load; the languages decide the pairs, found at load)."""
        threads = threads if self.engine == "ctranslate2" else None
        languages = (self.source, self.target, self.languages)
        return (
            self.model,
            self.device,
            self.dtype,
            self.engine,
            self.compute_type,
            threads,
            languages,
        )


# The keys of one model, also accepted at the top of a Translator's config that serves one.
MODEL_KEYS = frozenset(ModelSettings.model_fields) - {"id"}


class TranslatorSettings(_Settings):
    """The models a Translator replica serves, how many it holds at once, and how it batches.

    ``models`` lists them; a config serving one may instead put that model's keys (``model``,
    ``engine``, ``decoding``...) at the top, as before there were several.
    """

    models: tuple[ModelSettings, ...] = Field((ModelSettings(),), min_length=1)
    # Loaded at once per replica (Serve's @serve.multiplexed); past it the least recently used
    # is unloaded. The first ones listed are loaded at start.
    max_models_per_replica: PositiveInt = 3
    # Compute threads of either engine (ctranslate2's intra_threads); Serve's OMP_NUM_THREADS
    # is floor(num_cpus), so a 0.5-CPU replica would otherwise run on one. None: the engine's.
    threads: PositiveInt | None = None
    # torch, with threads set: a model call of at most this many texts runs on one thread,
    # where a second costs more than it gives (0: never; docs/engines.md).
    single_thread_max_texts: NonNegativeInt = 0
    batching: TranslatorBatching = TranslatorBatching()
    translation_memory: TranslationMemorySettings = TranslationMemorySettings()

    @model_validator(mode="before")
    @classmethod
    def _one_model_at_the_top(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        retired = [f"{key} ({RETIRED_KEYS[key]})" for key in RETIRED_KEYS if key in data]
        if retired:
            raise ValueError(f"retired setting(s): {', '.join(retired)}")
        top = {key: value for key, value in data.items() if key in MODEL_KEYS}
        if not top:
            return data
        if "models" in data:
            raise ValueError(
                f"{', '.join(sorted(top))}: set inside each entry of models, not at the top"
            )
        rest = {key: value for key, value in data.items() if key not in MODEL_KEYS}
        return {**rest, "models": [top]}

    @model_validator(mode="after")
    def _ids_are_unique(self) -> TranslatorSettings:
        ids = [model.id for model in self.models]
        repeated = sorted({model_id for model_id in ids if ids.count(model_id) > 1})
        if repeated:
            raise ValueError(
                f"model id(s) {', '.join(repeated)} listed twice: give each entry its own id"
            )
        return self

    def find(self, model_id: str) -> ModelSettings | None:
        return next((model for model in self.models if model.id == model_id), None)


class PostprocessorSettings(_Settings):
    french_typography: bool = True
