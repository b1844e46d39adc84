"""Does changing a Translator setting make the model alone faster on this machine?

The model alone (benchmarks/model_process.py: the Translator's engine and BatchRunner) on a
shipped config's Translator settings (A) and on the same settings with the ``--set`` overrides
(B), each in a process of its own, timed alternately A B B A ... for ``--rounds`` rounds, so
that the machine's drift falls on both alike. Prints each round's B / A throughput and the
median; padding waste too, for the batching settings. Overrides are dotted user_config keys,
values read as YAML:

    python -m benchmarks.experiments.settings_ab build/bench-t5-small \\
        --set batching.max_batch_tokens=2048 --workload mixed
    python -m benchmarks.experiments.settings_ab build/bench-t5-small \\
        --set single_thread_max_texts=0 --clients 1 --requests 12
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

from benchmarks.model_process import ModelProcess
from benchmarks.workloads import workload


def with_overrides(translator: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of the Translator's deployment entry with ``key.sub=value`` set in its user_config."""
    changed = copy.deepcopy(translator)
    for override in overrides:
        key, separator, value = override.partition("=")
        if not separator or not key:
            raise ValueError(f"expected key=value, got {override!r}")
        *parents, last = key.split(".")
        node = changed["user_config"]
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = yaml.safe_load(value)
    return changed


def alternating(rounds: int) -> list[str]:
    """A B, B A, A B, ...: each variant first every other round."""
    return [v for r in range(rounds) for v in (("A", "B") if r % 2 == 0 else ("B", "A"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the benchmark checkpoint (make bench-model)")
    parser.add_argument("--config", default="local", help="configs/<name>.yaml: variant A")
    parser.add_argument("--set", dest="overrides", action="append", required=True)
    parser.add_argument("--workload", default="mixed")
    parser.add_argument("--clients", type=int, default=32, help="texts per model call")
    parser.add_argument("--requests", type=int, default=96, help="texts timed per turn")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    from graph.deploy import deployment_of, load_config

    config = load_config(
        args.config, model=str(Path(args.checkpoint).resolve()), first_model_only=True
    )
    translator = deployment_of(config, "Translator")
    variants = {"A": translator, "B": with_overrides(translator, args.overrides)}
    texts = workload(args.workload, 512, seed=0)
    rates: dict[str, list[float]] = {"A": [], "B": []}
    with ModelProcess(variants["A"]) as a, ModelProcess(variants["B"]) as b:
        models = {"A": a, "B": b}
        for variant in alternating(args.rounds):
            answer = models[variant].drive(
                texts, clients=args.clients, requests=args.requests, warmup=args.clients
            )
            rates[variant].append(answer["result"]["throughput"])
            print(
                f"{variant}: {answer['result']['throughput']:.2f} texts/s, "
                f"padding waste {answer['padding_waste']:.1%}"
            )
    ratios = [b / a for a, b in zip(rates["A"], rates["B"], strict=True)]
    print(
        f"B ({', '.join(args.overrides)}) / A ({args.config}), round by round: "
        f"{', '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
