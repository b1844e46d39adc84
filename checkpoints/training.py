"""Teaching a checkpoint its phrasebook by heart, checked on the code path that serves it.

The untrained model is saved in its family's format and loaded by the torch engine with the
pair selection a Translator's config would give (``deployments.engines``). The training
examples are what that engine feeds the model: its input ids for each pair (prefix or language
token included) and, as labels, the ids ``generate`` should produce (a forced language token is
fed to the decoder but is no label: ``generate`` forces it). The engine's own model is trained
in place, teacher-forced; once every label token leads by the schedule's margin, the engine
translates every phrase, and once all are exact the checkpoint is saved, loaded afresh and
checked again.

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
from transformers import PreTrainedModel

from checkpoints.formats import Format
from checkpoints.phrasebook import Phrase
from deployments.core.settings import ModelSettings
from deployments.engines import pair_selection
from deployments.engines.decoding import Pair
from deployments.engines.torch_engine import TorchEngine

# Fixed, not "all cores": float reductions (and so the weights) depend on the thread count.
# One: a model this small gains little from a second thread, and `make checkpoints` builds
# the three side by side.
TORCH_THREADS = 1


@dataclass(frozen=True)
class Schedule:
    """AdamW at ``learning_rate`` after a linear warm-up of ``warmup_epochs``, on a cosine down
    to ``floor`` of it at ``decay_epochs``, then constant. Training stops once every label token
    is predicted first with a lead of ``margin`` (logits, teacher-forced) and the engine then
    translates every phrase exactly: the margin keeps int8 quantization from flipping a token."""

    learning_rate: float
    decay_epochs: int
    max_epochs: int
    warmup_epochs: int = 2
    margin: float = 3.0
    report_every: int = 10
    batch_size: int = 32
    floor: float = 0.05

    def factor(self, epoch: float) -> float:
        if epoch < self.warmup_epochs:
            return (epoch + 1 / 8) / self.warmup_epochs
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
    settings = ModelSettings(model=str(staged.folder), device="cpu", **selection)
    engine = _load(settings)
    pairs = list(by_pair(phrases))
    if list(engine.pairs) != pairs:
        raise SystemExit(f"the checkpoint offers {list(engine.pairs)}, the phrasebook {pairs}")
    examples = _examples(engine, phrases)
    model = engine.model
    _hold_at_zero(model, staged.zero_embeddings)
    pad = engine.config.pad_token_id
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.learning_rate, weight_decay=0)
    rows = list(range(len(examples)))
    steps_per_epoch = math.ceil(len(rows) / schedule.batch_size)
    rate = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: schedule.factor(step / steps_per_epoch)
    )
    for epoch in range(1, schedule.max_epochs + 1):
        model.train()
        order.shuffle(rows)
        # The smallest lead of a label token's logit over any other's, teacher-forced (before
        # each step): greedy decoding follows the labels exactly when it is positive.
        margin = math.inf
        for start in range(0, len(rows), schedule.batch_size):
            batch = [examples[i] for i in rows[start : start + schedule.batch_size]]
            input_ids = _padded([e.input_ids for e in batch], pad)
            label_ids = _padded([e.labels for e in batch], -100)
            output = model(
                input_ids=input_ids,
                attention_mask=(input_ids != pad).long(),
                decoder_input_ids=_padded([e.decoder_input_ids for e in batch], pad),
                labels=label_ids,
            )
            optimizer.zero_grad()
            output.loss.backward()
            optimizer.step()
            rate.step()
            margin = min(margin, _smallest_margin(output.logits.detach(), label_ids))
        wrong = None
        if margin >= schedule.margin:
            model.eval()
            wrong = misses(engine, phrases, show=False)
            if wrong == 0:
                # As served: saved, then loaded afresh.
                staged.save(model)
                wrong = misses(_load(settings), phrases, show=True)
        if wrong is not None or epoch % schedule.report_every == 0:
            exact = "" if wrong is None else f", {wrong} phrases not exact"
            print(f"  epoch {epoch}: loss {output.loss.item():.4f}, margin {margin:.2f}{exact}")
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


def _load(settings: ModelSettings) -> TorchEngine:
    """The torch engine on the staged checkpoint, its pairs chosen as load_engine chooses."""
    return TorchEngine(
        settings.model, threads=TORCH_THREADS, pair_selection=pair_selection(settings)
    )


@dataclass(frozen=True)
class Example:
    """One phrase as the model sees it in training: the engine's input ids, the decoder's input
    (its start token, then the ids ``generate`` should write, less the last) and the labels."""

    input_ids: list[int]
    decoder_input_ids: list[int]
    labels: list[int]


def _examples(engine: TorchEngine, phrases: Sequence[Phrase]) -> list[Example]:
    """Each phrase's example, pair by pair: the ids ``generate`` should write after the
    decoder's start token are the forced language token if any, the translation, the end
    token. The forced token is fed to the decoder but not a label: ``generate`` forces it, and
    the input (the same source for every target) cannot tell which one to predict."""
    tokenizer, eos = engine.tokenizer, engine.config.eos_token_id
    start = engine.config.decoder_start_token_id
    examples: list[Example] = []
    for pair, batch in by_pair(phrases).items():
        inputs = engine.encode([p.text for p in batch], pair)
        forced = engine.pairs[pair].target_token
        first = [] if forced is None else [tokenizer.convert_tokens_to_ids(forced)]
        translations = [p.translation for p in batch]
        # Marian has a target side of its own (target.spm); M2M100's text_target would want a
        # tgt_lang, whose token this leaves out anyway.
        if engine.family == "marian":
            targets = tokenizer(text_target=translations, add_special_tokens=False)
        else:
            targets = tokenizer(translations, add_special_tokens=False)
        for input_ids, ids in zip(inputs, targets["input_ids"], strict=True):
            written = first + ids + [eos]
            labels = [-100] * len(first) + ids + [eos]
            examples.append(Example(input_ids, [start, *written[:-1]], labels))
    return examples


def _smallest_margin(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The smallest lead of a label's logit over the best other token's, at every label."""
    mask = labels != -100
    gold = labels.clamp(min=0).unsqueeze(-1)
    ahead = logits.gather(-1, gold).squeeze(-1)
    others = logits.scatter(-1, gold, -math.inf).amax(dim=-1)
    return float((ahead - others)[mask].min())


def _hold_at_zero(model: PreTrainedModel, rows: Sequence[int]) -> None:
    """Keep these rows of the (tied) token embeddings at zero through training: their
    gradients are zeroed, so AdamW never moves them."""
    if not rows:
        return
    weight = model.get_input_embeddings().weight
    index = torch.tensor(list(rows))
    with torch.no_grad():
        weight[index] = 0
    weight.register_hook(lambda grad: grad.index_fill(0, index, 0))


def _padded(rows: Sequence[list[int]], value: int) -> torch.Tensor:
    """``rows`` right-padded with ``value`` to the longest."""
    width = max(len(row) for row in rows)
    return torch.tensor([row + [value] * (width - len(row)) for row in rows])
