"""Load a Hugging Face seq2seq checkpoint and translate batches with it.

With deployments/ctranslate2_backend.py (the same interface on CTranslate2), the only modules
that import torch and transformers, so that everything else tests without them.
A checkpoint is a hub id (``t5-small``) or a local folder; both go through the same
``AutoTokenizer`` + ``AutoModelForSeq2SeqLM`` path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from deployments.backends import TokenizedCheckpoint
from deployments.targets import TargetDecoding, targets_from_task_params

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(device: str, gpus_assigned: bool) -> str:
    """``auto`` means CUDA only when this process was given a GPU.

    A replica with ``num_gpus: 0`` on a GPU host still sees the card; using it there would
    take memory Ray promised to another replica.
    """
    if device != "auto":
        return device
    return "cuda" if gpus_assigned and torch.cuda.is_available() else "cpu"


class Seq2SeqTranslator(TokenizedCheckpoint):
    """A loaded checkpoint: a list of texts in, a list of translations out."""

    backend = "torch"
    compute_type = None  # ctranslate2's setting; torch has dtype

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        dtype: str = "float32",
        decoding_overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.model_name = model
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model, dtype=DTYPES[dtype])
        self.model.to(self.device).eval()
        self.config = self.model.config
        self.dtype = dtype
        self.targets: dict[str, TargetDecoding] = {}
        self.set_decoding(decoding_overrides)
        self._require_targets(model)

    def set_decoding(self, overrides: Mapping[str, Any] | None) -> None:
        """Apply the config's decoding settings on top of the checkpoint's; no reload needed."""
        self.targets = targets_from_task_params(self.config.task_specific_params, overrides)

    @torch.inference_mode()
    def translate_encoded(self, input_ids: Sequence[list[int]], target: str) -> list[str]:
        """``translate`` for texts already encoded (by ``encode``), so that a caller that needed
        their lengths first does not tokenize them twice."""
        if not input_ids:
            return []
        decoding = self.targets[target]
        encoded = self.tokenizer.pad({"input_ids": list(input_ids)}, return_tensors="pt").to(
            self.device
        )
        output_ids = self.model.generate(**encoded, **decoding.generate_kwargs)
        # The pipeline decoded with clean_up_tokenization_spaces=False; so do we.
        return self.tokenizer.batch_decode(
            output_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
