"""Build the benchmark checkpoint: t5-small's shape, seeded random weights, a fixed output length.

A benchmark needs t5-small's cost, not its French, and it must run offline. This checkpoint has
t5-small's architecture number for number (so every matrix multiply is the same size) and a
decoding rule that makes every sentence cost the same: greedy, exactly 32 new tokens, never an
early end of sequence. A measured difference then comes from the serving path (batching,
padding, queues), not from one sentence happening to stop sooner than another.

Deterministic and offline: a seeded tokenizer corpus, single-threaded sentencepiece training,
``torch.manual_seed`` before the weights are drawn. A stamp file records a hash of every setting;
a rerun with the same settings leaves the folder alone.

    python -m checkpoints.build_bench_model build/bench-t5-small
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch
import transformers
from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

from benchmarks.workloads import WORDS, mixed
from deployments.engines.decoding import Pair
from deployments.engines.torch_engine import TorchEngine

# Bump when the build changes in a way the settings below do not show.
BUILDER_VERSION = 2
SEED = 20240601
STAMP = "bench-build.json"
PREFIX = "translate English to French: "
NEW_TOKENS = 32
ENGLISH_TO_FRENCH = Pair("en", "fr")
# min_length == max_length: end of sequence is suppressed until the 33rd id (the decoder start
# token plus 32 new ones), where max_length stops every row, so every sentence decodes 32 tokens.
DECODING = {
    "prefix": PREFIX,
    "num_beams": 1,
    "min_length": NEW_TOKENS + 1,
    "max_length": NEW_TOKENS + 1,
}
# /work/shared/reference/t5-small-config.json, number for number. dropout does nothing in eval;
# it is kept so the config reads as t5-small's.
T5_SMALL: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 512,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 6,
    "num_decoder_layers": 6,
    "num_heads": 8,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "n_positions": 512,
    "dropout_rate": 0.1,
    "layer_norm_epsilon": 1e-6,
    "initializer_factor": 1.0,
    "feed_forward_proj": "relu",
    "is_encoder_decoder": True,
    "tie_word_embeddings": True,
    "use_cache": True,
    "decoder_start_token_id": 0,
    "pad_token_id": 0,
    "eos_token_id": 1,
}
# Small, because the corpus is word salad over benchmarks.workloads.WORDS: sentencepiece stops
# below it (hard_vocab_limit=False) once every word has its own piece. t5-small's tokenizer is
# also smaller (32100) than its model vocabulary (32128).
SENTENCEPIECE = {
    "vocab_size": 2000,
    "hard_vocab_limit": False,
    "model_type": "unigram",
    "character_coverage": 1.0,
    # T5's special ids: pad 0, eos 1, unk 2, no bos.
    "pad_id": 0,
    "eos_id": 1,
    "unk_id": 2,
    "bos_id": -1,
    "num_threads": 1,
    "shuffle_input_sentence": False,
}
CORPUS_SENTENCES = 4000
# The build does little arithmetic; one thread leaves the other cores to whatever else runs.
TORCH_THREADS = 1


def corpus_lines() -> list[str]:
    """What the tokenizer learns from: workload-like sentences, some with the task prefix."""
    sentences = mixed(CORPUS_SENTENCES, seed=SEED)
    prefixed = [PREFIX + text for text in sentences[: CORPUS_SENTENCES // 10]]
    # Every word at least once, lower and capitalised, whatever the seeded draw left out.
    every_word = [" ".join(WORDS), " ".join(w[:1].upper() + w[1:] for w in WORDS)]
    return sentences + prefixed + every_word


def settings(corpus: list[str]) -> dict[str, Any]:
    """Everything the checkpoint depends on; its hash is the stamp."""
    return {
        "builder_version": BUILDER_VERSION,
        "seed": SEED,
        "config": T5_SMALL,
        "decoding": DECODING,
        "sentencepiece": SENTENCEPIECE,
        "corpus_sha256": hashlib.sha256("\n".join(corpus).encode()).hexdigest(),
        # Weight initialisation may change between releases; a new release rebuilds.
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


def settings_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def is_current(output: Path, expected_hash: str) -> bool:
    """The folder holds a finished build of these settings (the stamp is written last)."""
    stamp = output / STAMP
    if not stamp.is_file() or not (output / "model.safetensors").is_file():
        return False
    try:
        return json.loads(stamp.read_text())["settings_hash"] == expected_hash
    except (ValueError, KeyError):
        return False


def train_tokenizer(corpus: list[str], folder: Path) -> T5Tokenizer:
    # From memory to memory: trained from a file, spiece.model would record the file's (temporary)
    # path and differ from build to build.
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, minloglevel=2, **SENTENCEPIECE
    )
    (folder / "spiece.model").write_bytes(model.getvalue())
    # No <extra_id_*> sentinels: t5-small has them for span-corruption pretraining only.
    return T5Tokenizer.from_pretrained(str(folder), extra_ids=0)


def build_model(tokenizer: T5Tokenizer) -> T5ForConditionalGeneration:
    config = T5Config(**T5_SMALL, task_specific_params={"translation_en_to_fr": dict(DECODING)})
    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration(config)
    # Random weights mostly copy the decoder's input to its output, so greedy decoding would
    # repeat the start token (pad) 32 times and decode to "". Zero embeddings (tied, so zero
    # logits) for every id a translation must not hold: pad, unk and the ids past the
    # tokenizer's pieces. Greedy then picks a word piece, and the matrices keep t5-small's size.
    unused = [
        tokenizer.pad_token_id,
        tokenizer.unk_token_id,
        *range(len(tokenizer), T5_SMALL["vocab_size"]),
    ]
    with torch.no_grad():
        model.shared.weight[unused] = 0.0
    return model.eval()


def verify(folder: Path) -> None:
    """Load through the served code path; every sentence, alone or batched, decodes 33 ids."""
    translator = TorchEngine(str(folder))
    config = translator.model.config
    for key, value in T5_SMALL.items():
        if getattr(config, key) != value:
            raise SystemExit(f"config {key} is {getattr(config, key)!r}, want {value!r}")
    decoding = translator.pairs[ENGLISH_TO_FRENCH]
    sentences = [mixed(1, min_words=n, max_words=n, seed=n)[0] for n in (3, 12, 60)]
    batches = [[text] for text in sentences] + [sentences]
    with torch.inference_mode():
        for batch in batches:
            encoded = translator.tokenizer(
                [decoding.prefix + text for text in batch], return_tensors="pt", padding=True
            )
            output_ids = translator.model.generate(**encoded, **decoding.generate_kwargs)
            if tuple(output_ids.shape) != (len(batch), NEW_TOKENS + 1):
                raise SystemExit(
                    f"generate gave shape {tuple(output_ids.shape)} for {len(batch)} sentence(s) "
                    f"of {encoded.input_ids.shape[1]} tokens; want ({len(batch)}, "
                    f"{NEW_TOKENS + 1})"
                )
    translations = translator.translate(sentences, ENGLISH_TO_FRENCH)
    if not all(text.strip() for text in translations):
        raise SystemExit(f"an empty translation: {translations!r}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(output: Path) -> Path:
    """Build into a sibling folder and rename it into place, so a crash leaves no half build."""
    torch.set_num_threads(TORCH_THREADS)
    corpus = corpus_lines()
    values = settings(corpus)
    expected = settings_hash(values)
    if is_current(output, expected):
        print(f"bench checkpoint up to date ({STAMP} matches)")
        return output

    started = time.monotonic()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a checkpoint folder is not
    try:
        with tempfile.TemporaryDirectory() as scratch:
            tokenizer = train_tokenizer(corpus, Path(scratch))
            shutil.copy(Path(scratch) / "spiece.model", staging / "spiece.model")
        model = build_model(tokenizer)
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        del model
        gc.collect()
        verify(staging)
        stamp = {
            "settings_hash": expected,
            "settings": values,
            "tokenizer_size": len(tokenizer),
            "weights_sha256": file_sha256(staging / "model.safetensors"),
        }
        (staging / STAMP).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n")
        if output.exists():
            shutil.rmtree(output)
        staging.rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(
        f"bench checkpoint: t5-small shape, tokenizer of {len(tokenizer)} pieces, "
        f"{NEW_TOKENS} new tokens per sentence, built in {time.monotonic() - started:.1f} s"
    )
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="folder to write the checkpoint to")
    args = parser.parse_args(argv)
    print(build(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
