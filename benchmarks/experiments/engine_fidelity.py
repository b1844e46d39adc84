"""How many of an engine's translations differ from torch float32's on the benchmark sentences?

The same sentences (benchmarks/workloads.py, uniform and mixed) translated by the model alone
(benchmarks/model_process.py) on configs/local.yaml's Translator settings, torch float32, and on
each ``--engine`` (the same settings with only the engine's keys changed), in calls of 32 as the
graph makes them under load; prints how many outputs differ. The bench checkpoint's weights are
random, so its top two logits are often close: a worst case, not t5-small's count.

    python -m benchmarks.experiments.engine_fidelity build/bench-t5-small \\
        --engine ctranslate2:int8 --engine torch:bfloat16
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

from benchmarks.model_process import ModelProcess
from benchmarks.workloads import workload

WORKLOADS = ("uniform", "mixed")


def engine_settings(translator: dict[str, Any], spec: str) -> dict[str, Any]:
    """``torch:bfloat16`` or ``ctranslate2:int8``: the deployment entry with only the engine's
    keys of its user_config changed."""
    engine, _, kind = spec.partition(":")
    changed = copy.deepcopy(translator)
    user_config = changed["user_config"]
    if engine == "torch":
        user_config.update(engine="torch", dtype=kind or "float32")
        user_config.pop("compute_type", None)
    elif engine == "ctranslate2":
        user_config.update(engine="ctranslate2", dtype="float32", compute_type=kind or "int8")
    else:
        raise ValueError(f"engine {spec!r}: expected torch[:dtype] or ctranslate2[:compute_type]")
    return changed


def translations(translator: dict[str, Any], texts: dict[str, list[str]]) -> dict[str, list[str]]:
    with ModelProcess(translator) as model:
        return {
            name: model.drive(sentences, clients=32, requests=len(sentences), outputs=True)[
                "outputs"
            ]
            for name, sentences in texts.items()
        }


def differing(a: list[str], b: list[str]) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the benchmark checkpoint (make bench-model)")
    parser.add_argument("--engine", action="append", required=True, help="e.g. ctranslate2:int8")
    parser.add_argument("--count", type=int, default=160, help="sentences per workload")
    args = parser.parse_args(argv)
    from graph.deploy import deployment_of, load_config

    config = load_config("local", model=str(Path(args.checkpoint).resolve()), first_model_only=True)
    reference = engine_settings(deployment_of(config, "Translator"), "torch:float32")
    texts = {name: workload(name, args.count, seed=0) for name in WORKLOADS}
    expected = translations(reference, texts)
    for spec in args.engine:
        got = translations(engine_settings(reference, spec), texts)
        counts = ", ".join(
            f"{name} {differing(expected[name], got[name])} of {args.count}" for name in WORKLOADS
        )
        print(f"{spec}: differ from torch float32 on {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
