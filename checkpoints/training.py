"""Teaching a checkpoint its phrasebook by heart, checked on the code path that serves it.

The untrained model is saved in its family's format and loaded by the torch engine with the
pair selection a Translator's config would give (``deployments.engines``). The training
examples are what that engine feeds the model: its input ids for each pair (prefix or language
token included) and, as labels, the ids ``generate`` should produce (the forced language token
included). The engine's own model is trained in place, teacher-forced; every few epochs, once
it predicts nearly every label token, the engine translates every phrase, and once all are exact the
checkpoint is saved, loaded afresh and checked again.

Deterministic: fixed seeds, a fixed torch thread count, deterministic algorithms, a fixed data
order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from checkpoints.formats import Format
from checkpoints.phrasebook import Phrase
from deployments.core.settings import TranslatorSettings
from deployments.engines import pair_selection
from deployments.engines.decoding import Pair
from deployments.engines.torch_engine import TorchEngine

# Fixed, not "all cores": float reductions (and so the weights) depend on the thread count.
TORCH_THREADS = 2


@dataclass(frozen=True)
class Schedule:
    """AdamW at ``learning_rate`` on a cosine down to ``floor`` of it over ``decay_epochs``,
    then constant: at a constant high rate a tiny decoder keeps relapsing into repeated pieces
    ("vie vie vie") on a few phrases."""

    learning_rate: float
    decay_epochs: int
    max_epochs: int
    check_every: int = 5
    token_slack: int = 10
    report_every: int = 10
    batch_size: int = 32
    floor: float = 0.03

    def factor(self, epoch: float) -> float:
        progress = min(1.0, epoch / self.decay_epochs)
        return max(self.floor, 0.5 * (1 + math.cos(math.pi * progress)))


def deterministic(seed: int) -> random.Random:
    """Make torch deterministic in this process; the data order's random source."""
    torch.set_num_threads(TORCH_THREADS)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    return random.Random(seed)


def train_until_exact(
    staged: Format,
    phrases: Sequence[Phrase],
    selection: Mapping[str, Any],
    schedule: Schedule,
    seed: int,
) -> int:
    """Train ``staged``'s model until the engine, loading it with ``selection`` (a Translator's
    ``source``, ``target``, ``languages``), reproduces every phrase; leave it saved in
    ``staged.folder`` and return the epochs it took."""
    order = deterministic(seed)
    staged.save(staged.new_model(seed))
    settings = TranslatorSettings(model=str(staged.folder), threads=TORCH_THREADS, **selection)
    engine = _load(settings)
    pairs = list(by_pair(phrases))
    if list(engine.pairs) != pairs:
        raise SystemExit(f"the checkpoint offers {list(engine.pairs)}, the phrasebook {pairs}")
    inputs, labels = _examples(engine, phrases)
    model = engine.model
    pad = engine.config.pad_token_id
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.learning_rate, weight_decay=0)
    rows = list(range(len(inputs)))
    steps_per_epoch = math.ceil(len(rows) / schedule.batch_size)
    rate = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: schedule.factor(step / steps_per_epoch)
    )
    for epoch in range(1, schedule.max_epochs + 1):
        model.train()
        order.shuffle(rows)
        # Label tokens the model did not predict first, teacher-forced (before each step):
        # while there are many, greedy decoding cannot be exact and the served check waits.
        token_misses = 0
        for start in range(0, len(rows), schedule.batch_size):
            batch = rows[start : start + schedule.batch_size]
            input_ids = _padded([inputs[i] for i in batch], pad)
            label_ids = _padded([labels[i] for i in batch], -100)
            output = model(
                input_ids=input_ids,
                attention_mask=(input_ids != pad).long(),
                labels=label_ids,
            )
            optimizer.zero_grad()
            output.loss.backward()
            optimizer.step()
            rate.step()
            predicted = output.logits.argmax(dim=-1)
            token_misses += int(((predicted != label_ids) & (label_ids != -100)).sum())
        wrong = None
        if token_misses <= schedule.token_slack and epoch % schedule.check_every == 0:
            model.eval()
            wrong = misses(engine, phrases, show=False)
            if wrong == 0:
                # As served: saved, then loaded afresh.
                staged.save(model)
                wrong = misses(_load(settings), phrases, show=True)
        if wrong is not None or epoch % schedule.report_every == 0:
            exact = "" if wrong is None else f", {wrong} phrases not exact"
            print(f"  epoch {epoch}: loss {output.loss.item():.4f}, {token_misses} tokens{exact}")
        if wrong == 0:
            return epoch
    raise SystemExit(f"the model did not learn the phrasebook in {schedule.max_epochs} epochs")


def misses(engine: TorchEngine, phrases: Sequence[Phrase], *, show: bool) -> int:
    """How many phrases ``engine`` does not translate exactly, one model call per pair."""
    wrong = 0
    for pair, batch in by_pair(phrases).items():
        outputs = engine.translate([p.text for p in batch], pair)
        for output, phrase in zip(outputs, batch, strict=True):
            if output != phrase.translation:
                wrong += 1
                if show:
                    print(f"  {phrase.text!r} -> {output[:60]!r}, want {phrase.translation!r}")
    return wrong


def by_pair(phrases: Sequence[Phrase]) -> dict[Pair, list[Phrase]]:
    """The phrases of each pair, pairs sorted, phrases in their order."""
    grouped: dict[Pair, list[Phrase]] = {}
    for phrase in phrases:
        grouped.setdefault(Pair(phrase.source, phrase.target), []).append(phrase)
    return dict(sorted(grouped.items()))


def _load(settings: TranslatorSettings) -> TorchEngine:
    """The torch engine on the staged checkpoint, its pairs chosen as load_engine chooses."""
    return TorchEngine(
        settings.model, threads=settings.threads, pair_selection=pair_selection(settings)
    )


def _examples(
    engine: TorchEngine, phrases: Sequence[Phrase]
) -> tuple[list[list[int]], list[list[int]]]:
    """Each phrase's input ids as the engine encodes them, and the ids ``generate`` should
    write after the decoder's start token: the forced language token if any, the translation,
    the end token. Pair by pair."""
    tokenizer, eos = engine.tokenizer, engine.config.eos_token_id
    inputs: list[list[int]] = []
    labels: list[list[int]] = []
    for pair, batch in by_pair(phrases).items():
        inputs += engine.encode([p.text for p in batch], pair)
        forced = engine.pairs[pair].target_token
        first = [] if forced is None else [tokenizer.convert_tokens_to_ids(forced)]
        translations = [p.translation for p in batch]
        # Marian has a target side of its own (target.spm); M2M100's text_target would want a
        # tgt_lang, whose token this leaves out anyway.
        if engine.family == "marian":
            targets = tokenizer(text_target=translations, add_special_tokens=False)
        else:
            targets = tokenizer(translations, add_special_tokens=False)
        labels += [first + ids + [eos] for ids in targets["input_ids"]]
    return inputs, labels


def _padded(rows: Sequence[list[int]], value: int) -> torch.Tensor:
    """``rows`` right-padded with ``value`` to the longest."""
    width = max(len(row) for row in rows)
    return torch.tensor([row + [value] * (width - len(row)) for row in rows])
