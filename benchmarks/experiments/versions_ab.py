"""Is one commit's graph slower than another's on the single-model path, on this machine?

Each checkout (``--a``, ``--b``: git worktrees of the two commits, sharing this .venv) serves a
shipped config's first model on the bench checkpoint in a Ray of its own, started from that
checkout (Ray's workers import the code of the directory they start in), and is timed at one
client and at 32, alternately A B, B A, ... for ``--rounds`` rounds, so that the machine's drift
falls on both alike. Prints each run and each round's B / A throughput, then the medians:

    git worktree add /tmp/before <commit>
    python -m benchmarks.experiments.versions_ab build/bench-t5-small \\
        --a /tmp/before --b . --config cpu-fast --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PORT = 8761
POINTS = {"c1": (1, 40), "c32": (32, 160)}  # clients, timed requests


def measure(config: str, checkpoint: str, port: int) -> dict[str, float]:
    """In the checkout this process started in: its graph up, each point timed."""
    import requests

    from benchmarks.workloads import workload
    from graph.deploy import deploy, deployment_of, load_config, local_serve

    loaded = load_config(config, model=checkpoint, port=port)
    translator = deployment_of(loaded, "Translator")
    models = translator["user_config"].get("models")
    if models:  # a checkout whose Translator lists models: its first, alone
        rest = {k: v for k, v in translator["user_config"].items() if k != "models"}
        rest.pop("max_models_per_replica", None)
        translator["user_config"] = {**rest, **{k: v for k, v in models[0].items() if k != "id"}}
    texts = workload("uniform", 64)
    url = f"http://127.0.0.1:{port}/translate"

    def send(index: int) -> None:
        response = requests.post(url, json={"text": texts[index % len(texts)]}, timeout=120)
        response.raise_for_status()

    def rate(clients: int, count: int) -> float:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, range(clients)))  # warm-up
            started = time.perf_counter()
            list(pool.map(send, range(count)))
            return count / (time.perf_counter() - started)

    with local_serve(port, num_cpus=4):
        deploy(loaded)
        return {name: rate(clients, count) for name, (clients, count) in POINTS.items()}


def run_in(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.experiments.versions_ab", args.checkpoint]
    command += ["--config", args.config, "--measure"]
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        command, cwd=tree, env=environment, capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="absolute path of the bench checkpoint")
    parser.add_argument("--a", type=Path, help="checkout A (the reference)")
    parser.add_argument("--b", type=Path, help="checkout B")
    parser.add_argument("--config", default="cpu-fast")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.checkpoint = str(Path(args.checkpoint).resolve())
    if args.measure:
        print("RESULT " + json.dumps(measure(args.config, args.checkpoint, PORT)), flush=True)
        return 0
    ratios: dict[str, list[float]] = {name: [] for name in POINTS}
    for round_number in range(args.rounds):
        order = ("a", "b") if round_number % 2 == 0 else ("b", "a")
        results = {}
        for name in order:
            results[name] = run_in(getattr(args, name).resolve(), args)
            print(f"round {round_number + 1} {name}: {results[name]}", flush=True)
        for point in POINTS:
            ratios[point].append(results["b"][point] / results["a"][point])
        print(
            f"round {round_number + 1} B / A: "
            + ", ".join(f"{point} {values[-1]:.2f}" for point, values in ratios.items()),
            flush=True,
        )
    for point, values in ratios.items():
        print(
            f"{point}: median B / A {statistics.median(values):.2f} "
            f"({', '.join(f'{v:.2f}' for v in values)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
