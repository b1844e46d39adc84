"""The torch engine: a Hugging Face seq2seq checkpoint run with ``generate``.

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

from deployments.engines.base import Generated, TokenizedCheckpoint
from deployments.engines.decoding import Pair
from deployments.engines.families import PairSelection, generate_kwargs

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# Below this saving in encoder tokens one encoder pass is kept (uniform lengths gain nothing).
MIN_ENCODER_SAVING = 0.1


class TorchEngine(TokenizedCheckpoint):
    """A loaded checkpoint on torch: a list of texts in, a list of translations out."""

    engine = "torch"
    compute_type: str | None = None  # ctranslate2's setting; torch has dtype

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        dtype: str = "float32",
        threads: int | None = None,
        decoding_overrides: Mapping[str, Any] | None = None,
        encoder_group_size: int = 0,
        pair_selection: PairSelection | None = None,
    ) -> None:
        if threads:
            # Serve sets OMP_NUM_THREADS to floor(num_cpus); the configured count applies from
            # the load on.
            torch.set_num_threads(threads)
        self.model_name = model
        self.device = device
        self._device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model, dtype=DTYPES[dtype])
        self.model.to(self._device).eval()
        self.config = self.model.config
        self.dtype: str | None = dtype
        # The encoder runs in length-sorted groups of this many, each padded to its own longest;
        # the decoder once over all (padding costs the encoder, not the decoder). 0: one pass.
        self.encoder_group_size = encoder_group_size
        self._find_pairs(model, pair_selection)
        self.set_decoding(decoding_overrides)

    @property
    def threads(self) -> int:
        return torch.get_num_threads()

    def set_threads(self, threads: int) -> None:
        """OpenMP's thread count is per calling thread: call this from the thread that runs
        the model."""
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def set_decoding(self, overrides: Mapping[str, Any] | None) -> None:
        """Apply the config's decoding settings on top of the checkpoint's; no reload needed."""
        self.pairs = self._pairs_with(overrides)

    @torch.inference_mode()
    def generate(self, input_ids: Sequence[list[int]], pair: Pair) -> list[Generated]:
        """One model call over texts already encoded (by ``encode``)."""
        if not input_ids:
            return []
        decoding = self.pairs[pair]
        encoded = self.tokenizer.pad({"input_ids": list(input_ids)}, return_tensors="pt").to(
            self._device
        )
        encoder_outputs = self._encode_by_length(input_ids, encoded)
        if encoder_outputs is not None:
            encoded["encoder_outputs"] = encoder_outputs
        output_ids = self.model.generate(**encoded, **generate_kwargs(self.tokenizer, decoding))
        # The forced language token (column 1) is no part of the translation, whether or not
        # the tokenizer counts it special. The pipeline decoded with
        # clean_up_tokenization_spaces=False; so do we.
        text_ids = output_ids if decoding.target_token is None else output_ids[:, 2:]
        texts = self.tokenizer.batch_decode(
            text_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        # Column 0 is the decoder's start token; a row without the end token after it stopped
        # at the length limit.
        eos = self.config.eos_token_id
        ended = (output_ids[:, 1:] == eos).any(dim=1).tolist()
        fixed = decoding.fixed_length
        return [Generated(text, fixed or done) for text, done in zip(texts, ended, strict=True)]

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
            index = torch.tensor(rows, device=self._device)
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
