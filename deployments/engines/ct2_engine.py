"""The CTranslate2 engine: the same checkpoint converted once (cached), decoded like ``generate``.

What must match the torch engine, and how:

- Same tokenizer, prefix and languages: the Hugging Face tokenizer encodes (ids, the source
  language's token and end of sequence included; families.py) and decodes
  (``skip_special_tokens=True, clean_up_tokenization_spaces=False``); CTranslate2 only sees and
  returns token strings, mapped to ids by the converted model's own vocabulary. A target
  language token ``generate`` is forced to start with is CTranslate2's ``target_prefix``.
- Same decoding settings: the checkpoint's ``generation_config`` with the pair's
  ``task_specific_params`` (and the config's overrides) on top, mapped by
  ``decoding_options``. Hugging Face's ``max_length``/``min_length`` count the decoder start
  token, CTranslate2's lengths do not, hence the ``- 1``.
- Conversion: ``convert`` (``python -m checkpoints.convert_ctranslate2``) or the first load,
  into a cache keyed by the checkpoint's files and the compute type, written atomically so
  replicas starting together never see half a model.

CTranslate2's CPU dispatch never picks AVX-512 by itself ("AVX512 is not included in the
automatic dispatch"), so where the CPU has it and ``CT2_FORCE_CPU_ISA`` is unset, it is set
before ctranslate2 is first imported (docs/engines.md has the gain).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

from deployments.core.settings import ComputeType
from deployments.engines.base import Generated, TokenizedCheckpoint
from deployments.engines.decoding import Pair
from deployments.engines.families import PairSelection

_AVX512_FLAGS = {"avx512f", "avx512bw", "avx512dq", "avx512vl"}


def _cpu_has_avx512() -> bool:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split()) >= _AVX512_FLAGS
    except OSError:
        pass
    return False


# Before ctranslate2 is imported: it reads this once per process (see the module's doc).
if "CT2_FORCE_CPU_ISA" not in os.environ and _cpu_has_avx512():
    os.environ["CT2_FORCE_CPU_ISA"] = "AVX512"

import ctranslate2  # noqa: E402
from ctranslate2.converters import TransformersConverter  # noqa: E402
from transformers import AutoConfig, AutoTokenizer, GenerationConfig  # noqa: E402

logger = logging.getLogger(__name__)

COMPUTE_TYPES = get_args(ComputeType)
# Where converted models go unless TRANSLATION_CT2_CACHE says otherwise.
DEFAULT_CACHE = Path.home() / ".cache" / "serve-translation" / "ctranslate2"
CACHE_ENV = "TRANSLATION_CT2_CACHE"
# Bump when the conversion changes in a way the key does not show (e.g. the T5 fix below).
CONVERSION_VERSION = 1
STAMP = "conversion.json"
# generate() settings this engine maps; anything else in task_specific_params is refused.
SUPPORTED_DECODING = {
    "num_beams",
    "max_length",
    "min_length",
    "max_new_tokens",
    "early_stopping",
    "length_penalty",
    "no_repeat_ngram_size",
    "repetition_penalty",
}
# --- conversion and its cache ------------------------------------------------------------------


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    return Path(cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def checkpoint_identity(model: str) -> dict[str, Any]:
    """What a converted model depends on: the checkpoint's folder and its files' sizes and times.

    A hub id resolves to its cached snapshot folder, whose name is the commit.
    """
    folder = Path(model).expanduser()
    if not folder.is_dir():
        from transformers.utils import cached_file

        config_file = cached_file(model, "config.json")
        if config_file is None:
            raise FileNotFoundError(f"{model!r}: no config.json locally or on the hub")
        folder = Path(config_file).parent
    folder = folder.resolve()
    files = {
        entry.name: [entry.stat().st_size, entry.stat().st_mtime_ns]
        for entry in sorted(folder.iterdir())
        if entry.is_file()
    }
    return {"checkpoint": str(folder), "files": files}


def conversion_key(model: str, compute_type: str) -> dict[str, Any]:
    return {
        **checkpoint_identity(model),
        "compute_type": compute_type,
        "ctranslate2": ctranslate2.__version__,
        "conversion_version": CONVERSION_VERSION,
    }


def converted_path(model: str, compute_type: str, cache_dir: str | None = None) -> Path:
    key = conversion_key(model, compute_type)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    name = Path(key["checkpoint"]).name
    return cache_root(cache_dir) / f"{name}-{compute_type}-{digest}"


def convert(
    model: str, compute_type: str, cache_dir: str | None = None, *, force: bool = False
) -> Path:
    """The converted model's folder, converting ``model`` first unless the cache has it.

    Converted into a temporary folder beside the cache entry and renamed into place, so a
    reader sees a whole model or none; when two replicas convert at once, the first rename wins
    and the other drops its copy.
    """
    if compute_type not in COMPUTE_TYPES:
        raise ValueError(f"compute_type {compute_type!r}: expected one of {COMPUTE_TYPES}")
    target = converted_path(model, compute_type, cache_dir)
    if (target / STAMP).is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        logger.info("converting %s to CTranslate2 %s in %s", model, compute_type, target)
        _Transformers5Converter(model).convert(str(staging), quantization=compute_type, force=True)
        key = conversion_key(model, compute_type)
        (staging / STAMP).write_text(json.dumps(key, indent=2, sort_keys=True) + "\n")
        if force and target.exists():
            shutil.rmtree(target)
        try:
            staging.rename(target)
        except OSError:
            if not (target / STAMP).is_file():
                raise
            logger.info("another process converted %s first; using its copy", model)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


class _Transformers5Converter(TransformersConverter):
    """``TransformersConverter`` for transformers 5's T5 config and M2M100 tokenizer.

    ctranslate2 4.8.5 decides whether T5's decoder output is scaled by ``d_model ** -0.5``
    from ``config.tie_word_embeddings``, as transformers 4 did. transformers 5 forces
    ``tie_word_embeddings`` to True for every T5 and keeps the old meaning in
    ``scale_decoder_outputs`` (models/t5/configuration_t5.py), so a T5 v1.1 / flan-t5 checkpoint
    (which does not scale) would convert with the wrong scale. Giving the loaded model's config
    back the old meaning before ctranslate2 reads it fixes that; t5-small scales either way.

    ctranslate2 takes M2M100's vocabulary from ``tokenizer.get_vocab()``, which in transformers
    5 leaves out the language tokens (ids after the sentencepiece vocabulary): the converted
    vocabulary would be short of the model's. They are put back in.

    ctranslate2 starts a Marian decoder from a zero vector, not from the decoder start token's
    (``<pad>``) embedding, which opus-mt keeps at zero. Training that moves that row (a tied
    output layer's gradient reaches it) makes the converted model decode otherwise than
    ``generate``: that is logged, since the conversion cannot keep the row.
    """

    def load_model(self, model_class, model_name_or_path, **kwargs):
        loaded = super().load_model(model_class, model_name_or_path, **kwargs)
        scale = getattr(loaded.config, "scale_decoder_outputs", None)
        if scale is not None:
            loaded.config.tie_word_embeddings = bool(scale)
        if loaded.config.model_type == "marian":
            start = loaded.get_decoder().embed_tokens.weight[loaded.config.decoder_start_token_id]
            if bool(start.any()):
                logger.warning(
                    "%s: the decoder start token's embedding is not zero; CTranslate2 starts "
                    "Marian decoders from zero, so its translations will differ from torch's",
                    model_name_or_path,
                )
        return loaded

    def load_tokenizer(self, tokenizer_class, model_name_or_path, **kwargs):
        tokenizer = super().load_tokenizer(tokenizer_class, model_name_or_path, **kwargs)
        language_ids = getattr(tokenizer, "lang_token_to_id", None)
        if language_ids:
            vocabulary = tokenizer.get_vocab

            def with_languages() -> dict[str, int]:
                return {**vocabulary(), **language_ids}

            tokenizer.get_vocab = with_languages
        return tokenizer


# --- decoding ----------------------------------------------------------------------------------


def decoding_options(defaults: Mapping[str, Any], generate_kwargs: Mapping[str, Any]) -> dict:
    """``translate_batch`` options equivalent to ``generate(**generate_kwargs)``.

    ``defaults`` is the checkpoint's generation config (what ``generate`` falls back to).
    """
    unsupported = set(generate_kwargs) - SUPPORTED_DECODING
    if unsupported:
        raise ValueError(
            f"the ctranslate2 engine cannot apply decoding setting(s) {sorted(unsupported)}; "
            f"it maps {sorted(SUPPORTED_DECODING)}"
        )
    settings = {**defaults, **generate_kwargs}
    if settings.get("max_new_tokens"):
        max_decoding_length = settings["max_new_tokens"]
    else:
        # Hugging Face counts the decoder start token in max_length; CTranslate2 does not.
        max_decoding_length = settings.get("max_length", 20) - 1
    return {
        "beam_size": settings.get("num_beams") or 1,
        "max_decoding_length": max(max_decoding_length, 1),
        "min_decoding_length": max((settings.get("min_length") or 0) - 1, 0),
        "length_penalty": settings.get("length_penalty") or 1.0,
        "repetition_penalty": settings.get("repetition_penalty") or 1.0,
        "no_repeat_ngram_size": settings.get("no_repeat_ngram_size") or 0,
        # The service refuses over-long lines itself; never truncate silently.
        "max_input_length": 0,
    }


class CTranslate2Engine(TokenizedCheckpoint):
    """A checkpoint converted to CTranslate2: a list of texts in, a list of translations out."""

    engine = "ctranslate2"

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        threads: int | None = None,
        decoding_overrides: Mapping[str, Any] | None = None,
        cache_dir: str | None = None,
        pair_selection: PairSelection | None = None,
    ) -> None:
        self.model_name = model
        self.device = device
        self.dtype: str | None = None  # torch's setting; ctranslate2 has compute_type
        self.compute_type: str | None = compute_type
        self._threads = threads or 0
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.config = AutoConfig.from_pretrained(model)
        # Before converting: a checkpoint with no pair to offer is refused without that cost.
        self._find_pairs(model, pair_selection)
        self.path = convert(model, compute_type, cache_dir)
        try:
            generation = GenerationConfig.from_pretrained(model).to_dict()
        except OSError:
            generation = GenerationConfig.from_model_config(self.config).to_dict()
        self._defaults = {
            key: generation[key] for key in SUPPORTED_DECODING if generation.get(key) is not None
        }
        self.translator = ctranslate2.Translator(
            str(self.path),
            device=device,
            compute_type=compute_type,
            inter_threads=1,
            intra_threads=threads or 0,
        )
        # Output tokens are the target vocabulary's (shared with the source in most checkpoints).
        shared = self.path / "shared_vocabulary.json"
        vocabulary_file = shared if shared.is_file() else self.path / "target_vocabulary.json"
        self._ids: dict[str, int] = {}
        for index, token in enumerate(json.loads(vocabulary_file.read_text())):
            self._ids.setdefault(token, index)
        self._options: dict[Pair, dict[str, Any]] = {}
        self.set_decoding(decoding_overrides)

    @property
    def threads(self) -> int:
        """Compute threads per batch (intra_threads; 0 lets CTranslate2 choose)."""
        return self._threads

    def set_threads(self, threads: int) -> None:
        """Fixed at load (intra_threads): a model call's size does not change it."""

    def set_decoding(self, overrides: Mapping[str, Any] | None) -> None:
        pairs = self._pairs_with(overrides)
        options = {
            pair: decoding_options(self._defaults, d.generate_kwargs) for pair, d in pairs.items()
        }
        self.pairs, self._options = pairs, options

    def generate(self, input_ids: Sequence[list[int]], pair: Pair) -> list[Generated]:
        """One model call over texts already encoded (by ``encode``)."""
        if not input_ids:
            return []
        source = [self.tokenizer.convert_ids_to_tokens(list(ids)) for ids in input_ids]
        forced = self.pairs[pair].target_token
        prefix = [[forced]] * len(source) if forced is not None else None
        results = self.translator.translate_batch(
            source, target_prefix=prefix, **self._options[pair], return_end_token=True
        )
        # The forced language token comes back first, as generate's does: not translation.
        skip = 0 if forced is None else 1
        hypotheses = [r.hypotheses[0][skip:] for r in results]
        output_ids = [[self._ids[token] for token in tokens] for tokens in hypotheses]
        texts = self.tokenizer.batch_decode(
            output_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        end, fixed = self.tokenizer.eos_token, self.pairs[pair].fixed_length
        return [
            Generated(text, fixed or (bool(tokens) and tokens[-1] == end))
            for text, tokens in zip(texts, hypotheses, strict=True)
        ]
