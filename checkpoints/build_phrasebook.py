"""Build the offline test checkpoint: a tiny T5 that knows its phrasebook by heart.

It is not a translator. It has t5-small's format (sentencepiece tokenizer, Hugging Face
folder, ``task_specific_params`` with prefixes and beam settings) so that it loads and decodes
through exactly the code that serves t5-small, and it answers every phrasebook sentence with the
phrasebook's translation. Anything else it answers with plausible nonsense.

Deterministic: fixed seeds, a fixed torch thread count, a fixed data order. It trains until
the torch engine (``deployments.engines.torch_engine``) reproduces every phrase, then
writes it.

    python -m checkpoints.build_phrasebook build/phrasebook-t5
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sentencepiece as spm
import torch
from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

from checkpoints.phrasebook import Phrase, load_phrasebook
from deployments.engines.decoding import Pair
from deployments.engines.torch_engine import TorchEngine

LANGUAGE_NAMES = {"fr": "French", "de": "German", "ro": "Romanian"}
SEED = 1234
# A cosine schedule over SCHEDULE_EPOCHS, then a small constant rate: at a constant high rate the
# tiny decoder keeps relapsing into repeated pieces ("vie vie vie") on a few phrases.
SCHEDULE_EPOCHS = 80
MAX_EPOCHS = 200
CHECK_EVERY = 10
# Fixed, not "all cores": float reductions (and so the weights) depend on the thread count.
TORCH_THREADS = 2
# t5-small declares 4 beams; this model decodes greedily. A model this small memorises every
# phrase under greedy decoding within seconds, but beam search keeps finding off-phrasebook
# hypotheses it scores higher (tried: 2-3 layers, d_model 128-256, 200 epochs). Config can
# still ask for beams (decoding.num_beams); the code path is the same either way.
DECODING = {"max_length": 64, "num_beams": 1}


def prefix_for(target: str) -> str:
    return f"translate English to {LANGUAGE_NAMES[target]}: "


def train_tokenizer(phrases: list[Phrase], folder: Path) -> T5Tokenizer:
    corpus = folder / "corpus.txt"
    lines = [prefix_for(p.target) + p.text for p in phrases] + [p.translation for p in phrases]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(folder / "spiece"),
        vocab_size=512,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        # T5's special ids: pad 0, eos 1, unk 2, no bos.
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    # No <extra_id_*> sentinels: t5-small has them for span-corruption pretraining only.
    return T5Tokenizer.from_pretrained(str(folder), extra_ids=0)


def build_model(vocab_size: int, targets: list[str]) -> T5ForConditionalGeneration:
    config = T5Config(
        vocab_size=vocab_size,
        d_model=128,
        d_kv=32,
        d_ff=512,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        dropout_rate=0.0,
        n_positions=512,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        task_specific_params={
            f"translation_en_to_{t}": {"prefix": prefix_for(t), **DECODING} for t in targets
        },
    )
    torch.manual_seed(SEED)
    return T5ForConditionalGeneration(config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="folder to write the checkpoint to")
    args = parser.parse_args(argv)

    torch.set_num_threads(TORCH_THREADS)
    torch.use_deterministic_algorithms(True)
    random.seed(SEED)
    phrases = load_phrasebook()
    targets = sorted({p.target for p in phrases})
    started = time.monotonic()

    with tempfile.TemporaryDirectory() as scratch:
        staging = Path(scratch) / "checkpoint"
        staging.mkdir()
        tokenizer = train_tokenizer(phrases, Path(scratch))
        model = build_model(len(tokenizer), targets)
        epochs = train(model, tokenizer, phrases, staging)
        shutil.copy(Path(scratch) / "spiece.model", staging / "spiece.model")
        (staging / "phrasebook-build.json").write_text(
            json.dumps({"phrases": len(phrases), "epochs": epochs, "seed": SEED}, indent=2) + "\n"
        )
        if args.output.exists():
            shutil.rmtree(args.output)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, args.output)
    print(
        f"phrasebook checkpoint: {len(phrases)} phrases learned in {epochs} epochs, "
        f"{time.monotonic() - started:.0f} s"
    )
    print(args.output)
    return 0


def train(model, tokenizer, phrases: list[Phrase], staging: Path) -> int:
    """Teacher-forced training until the served decoding reproduces every phrase exactly."""
    sources = [prefix_for(p.target) + p.text for p in phrases]
    labels = tokenizer([p.translation for p in phrases], padding=True, return_tensors="pt")
    label_ids = labels.input_ids.masked_fill(labels.attention_mask == 0, -100)
    inputs = tokenizer(sources, padding=True, return_tensors="pt")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    order = list(range(len(phrases)))
    batch_size = 32
    steps_per_epoch = math.ceil(len(order) / batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: max(
            0.03,
            0.5 * (1 + math.cos(math.pi * min(1.0, step / (SCHEDULE_EPOCHS * steps_per_epoch)))),
        ),
    )
    for epoch in range(1, MAX_EPOCHS + 1):
        model.train()
        random.shuffle(order)
        for start in range(0, len(order), batch_size):
            rows = torch.tensor(order[start : start + batch_size])
            loss = model(
                input_ids=inputs.input_ids[rows],
                attention_mask=inputs.attention_mask[rows],
                labels=label_ids[rows],
            ).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if epoch % CHECK_EVERY == 0:
            # Greedy in memory is cheap; the served beam-search path only once that is exact.
            wrong = greedy_misses(model, tokenizer, inputs, phrases)
            if wrong == 0:
                wrong = served_misses(model, tokenizer, phrases, staging)
            print(f"epoch {epoch}: loss {loss.item():.4f}, {wrong} phrases not yet exact")
            if wrong == 0:
                return epoch
    raise SystemExit(f"the model did not learn the phrasebook in {MAX_EPOCHS} epochs")


@torch.inference_mode()
def greedy_misses(model, tokenizer, inputs, phrases: list[Phrase]) -> int:
    model.eval()
    output_ids = model.generate(**inputs, max_length=64)
    outputs = tokenizer.batch_decode(output_ids, skip_special_tokens=True)
    return sum(out != p.translation for out, p in zip(outputs, phrases, strict=True))


def served_misses(model, tokenizer, phrases: list[Phrase], staging: Path) -> int:
    """How many phrases the served code path gets wrong, loading the checkpoint as it would."""
    model.eval()
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    translator = TorchEngine(str(staging))
    wrong = 0
    for pair in sorted({Pair(p.source, p.target) for p in phrases}):
        batch = [p for p in phrases if Pair(p.source, p.target) == pair]
        outputs = translator.translate([p.text for p in batch], pair)
        for out, p in zip(outputs, batch, strict=True):
            if out != p.translation:
                wrong += 1
                print(f"  {p.text!r} -> {out[:60]!r}, want {p.translation!r}")
    return wrong


if __name__ == "__main__":
    sys.exit(main())
