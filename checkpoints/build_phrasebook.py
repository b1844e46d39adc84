"""Build the offline checkpoints: tiny models of each family that know the phrasebook by heart.

They are not translators. Each has its family's real format (formats.py: t5-small's,
opus-mt's, m2m100_418M's) so that it loads and decodes through exactly the code that serves
the real ones, and it answers every phrasebook sentence of its pairs with the phrasebook's
translation. Anything else it answers with plausible nonsense.

- ``phrasebook-t5``: en -> fr and en -> de, prefixes in ``task_specific_params``.
- ``phrasebook-marian``: fr -> en (a Translator config says ``source: fr``,
  ``target: en``).
- ``phrasebook-m2m100``: de -> en and de -> fr, language tokens (a config says ``source: de``
  and ``languages: [de, en, fr]``; the tokenizer knows M2M100's 100 languages).

Deterministic (training.py): the same files, weights included, on every build. Each trains
until the torch engine reproduces every phrase, then is written; the recipe is the output
folder's name.

    python -m checkpoints.build_phrasebook build/phrasebook-t5 [build/phrasebook-m2m100 ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checkpoints import formats
from checkpoints.phrasebook import FROM_ENGLISH, Phrase, load_phrasebook
from checkpoints.training import Schedule, train_until_exact

LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German"}
SEED = 1234
# t5-small declares 4 beams; these models decode greedily. A model this small memorises every
# phrase under greedy decoding within seconds, but beam search keeps finding off-phrasebook
# hypotheses it scores higher (tried on T5: 2-3 layers, d_model 128-256, 200 epochs). Config
# can still ask for beams (decoding.num_beams); the code path is the same either way.
DECODING = {"max_length": 64, "num_beams": 1}
# Enough pieces for most phrasebook words to be one or two (formats.train_sentencepiece).
VOCAB_SIZE = 2000


def prefix_for(source: str, target: str) -> str:
    return f"translate {LANGUAGE_NAMES[source]} to {LANGUAGE_NAMES[target]}: "


def t5_format(folder: Path, corpus: list[str], recipe: Recipe) -> formats.Format:
    prefixes = {f"translation_{s}_to_{t}": prefix_for(s, t) for s, t in recipe.pairs}
    return formats.t5(
        folder,
        corpus,
        recipe.size,
        prefixes=prefixes,
        decoding=DECODING,
        vocab_size=VOCAB_SIZE,
    )


def marian_format(folder: Path, corpus: list[str], recipe: Recipe) -> formats.Format:
    return formats.marian(folder, corpus, recipe.size, decoding=DECODING, vocab_size=VOCAB_SIZE)


def m2m100_format(folder: Path, corpus: list[str], recipe: Recipe) -> formats.Format:
    # "m2m100", not the smaller "wmt21" set: that one has no French.
    return formats.m2m100(folder, corpus, recipe.size, decoding=DECODING, vocab_size=VOCAB_SIZE)


@dataclass(frozen=True)
class Recipe:
    """One checkpoint: its family's format, the pairs it learns, the selection a Translator's
    config gives it, the model's size and the training schedule."""

    make_format: Callable[[Path, list[str], Recipe], formats.Format]
    pairs: tuple[tuple[str, str], ...]
    size: formats.Size
    schedule: Schedule
    selection: Mapping[str, Any] = field(default_factory=dict)

    def phrases(self) -> list[Phrase]:
        return load_phrasebook(self.pairs)

    def corpus(self) -> list[str]:
        """What the tokenizer learns: each sentence of the recipe's languages once."""
        phrases = self.phrases()
        texts = [p.text for p in phrases] + [p.translation for p in phrases]
        return list(dict.fromkeys(texts))


RECIPES = {
    "phrasebook-t5": Recipe(
        t5_format,
        FROM_ENGLISH,
        formats.Size(d_model=128, layers=2, heads=4, ffn=512),
        Schedule(learning_rate=3e-3, decay_epochs=40, max_epochs=150),
    ),
    "phrasebook-marian": Recipe(
        marian_format,
        (("fr", "en"),),
        formats.Size(d_model=128, layers=2, heads=4, ffn=512),
        Schedule(learning_rate=2e-3, decay_epochs=100, max_epochs=150, batch_size=16),
        {"source": "fr", "target": "en"},
    ),
    "phrasebook-m2m100": Recipe(
        m2m100_format,
        (("de", "en"), ("de", "fr")),
        formats.Size(d_model=128, layers=2, heads=4, ffn=512),
        Schedule(learning_rate=2e-3, decay_epochs=100, max_epochs=150, batch_size=16),
        {"source": "de", "languages": ("de", "en", "fr")},
    ),
}


def build(recipe: Recipe, output: Path) -> None:
    """Train ``recipe``'s checkpoint and write it to ``output`` (replaced whole)."""
    started = time.monotonic()
    phrases = recipe.phrases()
    with tempfile.TemporaryDirectory() as scratch:
        staging = Path(scratch) / output.name
        staging.mkdir()
        staged = recipe.make_format(staging, recipe.corpus(), recipe)
        epochs = train_until_exact(staged, phrases, recipe.selection, recipe.schedule, SEED)
        (staging / "phrasebook-build.json").write_text(
            json.dumps({"phrases": len(phrases), "epochs": epochs, "seed": SEED}, indent=2) + "\n"
        )
        if output.exists():
            shutil.rmtree(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, output)
    print(
        f"{output}: {len(phrases)} phrases learned in {epochs} epochs, "
        f"{time.monotonic() - started:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "outputs",
        nargs="+",
        type=Path,
        help=f"folders to write; each one's name is its recipe: {', '.join(RECIPES)}",
    )
    args = parser.parse_args(argv)
    unknown = [str(output) for output in args.outputs if output.name not in RECIPES]
    if unknown:
        parser.error(f"no recipe for {', '.join(unknown)}; the recipes: {', '.join(RECIPES)}")
    for output in args.outputs:
        build(RECIPES[output.name], output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
