"""Each model family's on-disk format, as its real checkpoints have it: the tokenizer files, the
config, the generation settings. The tests' tiny random checkpoints and the trained phrasebook
checkpoints are both made here, so both load through exactly the code that serves the real ones.

A format function trains a sentencepiece (or BPE) tokenizer on the corpus it is given, writes
the tokenizer files into an empty folder and returns a ``Format``: the model is then created
from it (``new_model``), trained or not, and written beside them (``save``).

- T5 (t5-small): ``spiece.model``; pairs and prefixes in ``task_specific_params``.
- Marian (opus-mt-*): ``vocab.json``, ``source.spm``, ``target.spm``; one pair, undeclared.
- M2M100 (m2m100_418M): ``vocab.json``, ``sentencepiece.bpe.model``, ``__de__``-style language
  tokens after the vocabulary.
- NLLB (nllb-200): an M2M100 model, a BPE tokenizer, ``deu_Latn``-style language tokens.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    GenerationConfig,
    M2M100Config,
    M2M100ForConditionalGeneration,
    M2M100Tokenizer,
    MarianConfig,
    MarianMTModel,
    MarianTokenizer,
    NllbTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    T5Config,
    T5ForConditionalGeneration,
    T5Tokenizer,
)


@dataclass(frozen=True)
class Size:
    """The transformer's shape: width, layers (encoder and decoder each), heads, feed-forward."""

    d_model: int
    layers: int
    heads: int
    ffn: int


@dataclass
class Format:
    """A checkpoint in the making: its tokenizer files already in ``folder``, the tokenizer read
    back from them, the model's config and the generation settings saved with it."""

    folder: Path
    tokenizer: Any
    config: PretrainedConfig
    model_class: type[PreTrainedModel]
    generation: Mapping[str, Any]
    # Tokens tokenizer_config.json must list as special (M2M100's language tokens).
    special_tokens: list[str] = field(default_factory=list)
    # Token ids whose embedding stays zero in training: Marian's decoder start token, which
    # opus-mt keeps at zero and CTranslate2 replaces by a zero vector.
    zero_embeddings: tuple[int, ...] = ()

    def new_model(self, seed: int) -> PreTrainedModel:
        """The model with random weights, the same ones for the same seed."""
        torch.manual_seed(seed)
        return self.model_class(self.config)

    def save(self, model: PreTrainedModel) -> Path:
        """Write ``model`` into the folder beside the tokenizer, as the real checkpoints are."""
        model.save_pretrained(self.folder)
        self.tokenizer.save_pretrained(self.folder)
        generation = model.generation_config.to_dict() | dict(self.generation)
        GenerationConfig(**generation).save_pretrained(self.folder)
        if self.special_tokens:
            # transformers 5 saves no list of M2M100's language tokens, so it would load them as
            # ordinary tokens; m2m100_418M's tokenizer_config.json lists them, which makes them
            # special (left out of decoded text).
            config_file = self.folder / "tokenizer_config.json"
            config = json.loads(config_file.read_text())
            config["additional_special_tokens"] = self.special_tokens
            config_file.write_text(json.dumps(config, indent=2))
        return self.folder


def t5(
    folder: Path,
    corpus: Sequence[str],
    size: Size,
    *,
    prefixes: Mapping[str, str],
    decoding: Mapping[str, Any],
    vocab_size: int,
) -> Format:
    """t5-small's format. ``prefixes``: task (``translation_en_to_fr``) -> its prefix, each with
    ``decoding`` in ``task_specific_params``; the tokenizer also learns the prefixes."""
    lines = [*corpus, *prefixes.values()]
    # T5's special ids: pad 0, eos 1, unk 2, no bos.
    spiece = train_sentencepiece(lines, vocab_size, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    (folder / "spiece.model").write_bytes(spiece)
    # No <extra_id_*> sentinels: t5-small has them for span-corruption pretraining only.
    tokenizer = T5Tokenizer.from_pretrained(str(folder), extra_ids=0)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=size.d_model,
        d_kv=size.d_model // size.heads,
        d_ff=size.ffn,
        num_layers=size.layers,
        num_heads=size.heads,
        dropout_rate=0.0,
        n_positions=512,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        task_specific_params={
            task: {"prefix": prefix, **decoding} for task, prefix in prefixes.items()
        },
    )
    return Format(folder, tokenizer, config, T5ForConditionalGeneration, {})


def marian(
    folder: Path,
    corpus: Sequence[str],
    size: Size,
    *,
    decoding: Mapping[str, Any],
    vocab_size: int,
) -> Format:
    """opus-mt's format: one pair, nothing in the config says which; ``<pad>`` last in the
    vocabulary, the decoder's start token, never generated (``bad_words_ids``). Source and
    target share one sentencepiece model here (opus-mt has two, over one vocabulary)."""
    pieces = train_sentencepiece(corpus, vocab_size)
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(pieces)
    tokens = ["</s>", "<unk>", *_pieces(pieces)]
    vocabulary = {token: index for index, token in enumerate(tokens)}
    pad = vocabulary["<pad>"] = len(tokens)
    (folder / "vocab.json").write_text(json.dumps(vocabulary, ensure_ascii=False))
    tokenizer = MarianTokenizer(
        str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json")
    )
    config = MarianConfig(
        vocab_size=len(vocabulary),
        **_bart_shape(size),
        max_position_embeddings=512,
        # opus-mt's: token embeddings scaled by sqrt(d_model) against the sinusoidal positions.
        scale_embedding=True,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
    )
    generation = {**decoding, "bad_words_ids": [[pad]]}
    return Format(folder, tokenizer, config, MarianMTModel, generation, zero_embeddings=(pad,))


def m2m100(
    folder: Path,
    corpus: Sequence[str],
    size: Size,
    *,
    decoding: Mapping[str, Any],
    vocab_size: int,
    language_codes: str = "m2m100",
) -> Format:
    """m2m100's format: ``__de__``-style language tokens after the vocabulary, the source
    language's token first in the input. ``language_codes``: M2M100Tokenizer's set, "m2m100"
    (100 languages) or "wmt21" (8, without French); the tokenizer takes no other list."""
    pieces = train_sentencepiece(corpus, vocab_size)
    (folder / "sentencepiece.bpe.model").write_bytes(pieces)
    tokens = ["<s>", "<pad>", "</s>", "<unk>", *_pieces(pieces)]
    vocabulary = {token: index for index, token in enumerate(tokens)}
    (folder / "vocab.json").write_text(json.dumps(vocabulary, ensure_ascii=False))
    tokenizer = M2M100Tokenizer(
        str(folder / "vocab.json"),
        str(folder / "sentencepiece.bpe.model"),
        language_codes=language_codes,
    )
    # The language tokens and the "madeup words" come after the vocabulary, as in m2m100_418M.
    languages = list(tokenizer.lang_code_to_token.values())
    vocab = len(vocabulary) + len(languages) + tokenizer.num_madeup_words
    config = _m2m100_config(vocab, size)
    return Format(folder, tokenizer, config, M2M100ForConditionalGeneration, decoding, languages)


def nllb(
    folder: Path,
    corpus: Sequence[str],
    size: Size,
    *,
    decoding: Mapping[str, Any],
    vocab_size: int,
    languages: Sequence[str],
) -> Format:
    """nllb-200's format: an M2M100 model with ``deu_Latn``-style language ``languages``, a BPE
    tokenizer (tokenizers), the source language's token first in the input."""
    trained = Tokenizer(models.BPE(unk_token="<unk>"))
    trained.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        show_progress=False,
    )
    trained.train_from_iterator(corpus, trainer)
    state = json.loads(trained.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    tokenizer = NllbTokenizer(
        vocab=state["vocab"], merges=merges, additional_special_tokens=list(languages)
    )
    config = _m2m100_config(len(tokenizer), size)
    return Format(folder, tokenizer, config, M2M100ForConditionalGeneration, decoding)


def train_sentencepiece(lines: Sequence[str], vocab_size: int, **ids: int) -> bytes:
    """A BPE sentencepiece model of ``lines``, deterministically (one thread, input order kept).

    BPE, not t5-small's unigram: on a corpus this small a unigram model stops at a few hundred
    pieces, and words split into letters that repeat ("T e e"), which a tiny decoder has
    trouble telling apart by position; BPE merges up to ``vocab_size`` word-sized pieces."""
    # From memory to memory: trained from a file, the model would record the file's path.
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        model_type="bpe",
        character_coverage=1.0,
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        minloglevel=2,
        **ids,
    )
    return model.getvalue()


def _pieces(model: bytes) -> list[str]:
    """The model's pieces in id order, without its control and unknown tokens."""
    processor = spm.SentencePieceProcessor(model_proto=model)
    return [
        processor.id_to_piece(i)
        for i in range(processor.get_piece_size())
        if not (processor.is_control(i) or processor.is_unknown(i))
    ]


def _bart_shape(size: Size) -> dict[str, Any]:
    """Marian's and M2M100's shape settings (both are BART-style configs), without dropout:
    these checkpoints are made to decode, or to learn a phrasebook by heart."""
    return {
        "d_model": size.d_model,
        "encoder_layers": size.layers,
        "decoder_layers": size.layers,
        "encoder_attention_heads": size.heads,
        "decoder_attention_heads": size.heads,
        "encoder_ffn_dim": size.ffn,
        "decoder_ffn_dim": size.ffn,
        "dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
    }


def _m2m100_config(vocab_size: int, size: Size) -> M2M100Config:
    return M2M100Config(
        vocab_size=vocab_size,
        **_bart_shape(size),
        # Layer drop skips whole layers at random in training: no use to a phrasebook.
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        max_position_embeddings=1024,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
    )
