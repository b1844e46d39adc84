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
from transformers.modeling_outputs import BaseModelOutput

from deployments.backends import TokenizedCheckpoint
from deployments.targets import TargetDecoding, targets_from_task_params

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# Below this saving in encoder tokens one encoder pass is kept (uniform lengths gain nothing).
MIN_ENCODER_SAVING = 0.1


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
        encoder_group_size: int = 0,
    ) -> None:
        self.model_name = model
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model, dtype=DTYPES[dtype])
        self.model.to(self.device).eval()
        self.config = self.model.config
        self.dtype = dtype
        # The encoder runs over a batch's texts in groups of this many, sorted by length, each
        # padded only to its own longest text; the decoder then runs once over the whole batch.
        # Padding costs the encoder in proportion (every padded token goes through its six
        # layers), while the decoder's steps cost about the same whatever the source lengths,
        # and a step's fixed cost makes one big decoder batch pay (README "Benchmarks",
        # length-aware batching). 0: one encoder pass, as generate runs it. The Translator sets
        # it from user_config (batching.encoder_group_size), in place.
        self.encoder_group_size = encoder_group_size
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
        encoder_outputs = self._encode_by_length(input_ids, encoded)
        if encoder_outputs is not None:
            encoded["encoder_outputs"] = encoder_outputs
        output_ids = self.model.generate(**encoded, **decoding.generate_kwargs)
        # The pipeline decoded with clean_up_tokenization_spaces=False; so do we.
        return self.tokenizer.batch_decode(
            output_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    def _encode_by_length(
        self, input_ids: Sequence[list[int]], padded: Mapping[str, torch.Tensor]
    ) -> BaseModelOutput | None:
        """The encoder's output for the whole padded batch, computed in length-sorted groups of
        ``encoder_group_size`` (see ``__init__``); ``None`` when that is 0 or would not save at
        least ``MIN_ENCODER_SAVING`` of the encoder's tokens, and generate runs the encoder.

        Each text's encoding is the same either way: attention masks the padding, and the rows
        past a group's width, which only padding would have filled, are masked in the decoder's
        cross-attention.
        """
        if not self.encoder_group_size or self.tokenizer.padding_side != "right":
            return None
        plan = encoder_groups([len(ids) for ids in input_ids], self.encoder_group_size)
        full = len(input_ids) * padded["input_ids"].shape[1]
        if sum(len(rows) * width for rows, width in plan) > (1 - MIN_ENCODER_SAVING) * full:
            return None
        encoder = self.model.get_encoder()
        hidden = None
        for rows, width in plan:
            index = torch.tensor(rows, device=self.device)
            output = encoder(
                input_ids=padded["input_ids"][index, :width],
                attention_mask=padded["attention_mask"][index, :width],
            ).last_hidden_state
            if hidden is None:
                shape = (len(input_ids), padded["input_ids"].shape[1], output.shape[-1])
                hidden = output.new_zeros(shape)
            hidden[index, :width] = output
        return BaseModelOutput(last_hidden_state=hidden)


def encoder_groups(lengths: Sequence[int], group_size: int) -> list[tuple[list[int], int]]:
    """Row indices sorted by length, cut every ``group_size``, each with its longest length."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups = [order[start : start + group_size] for start in range(0, len(order), group_size)]
    return [(rows, max(lengths[i] for i in rows)) for rows in groups]
