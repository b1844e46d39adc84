"""The in-process limit: the model alone, with no Serve, no HTTP and no queue in front of it.

What the served graph reaches is measured against this. Batched throughput here is the
ceiling for one Translator replica with the same threads and batch size; a lone sentence's
time is the floor for one request's latency.

    python -m benchmarks.inprocess build/bench-t5-small --threads 2 --batch-size 32
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence

import torch
from deployments.thread_priority import calling_thread_policy, make_calling_thread_realtime

from benchmarks.workloads import workload
from deployments.batching.lengths import group_by_length, padding_waste
from deployments.core.settings import TranslatorSettings
from deployments.engines.base import Engine
from deployments.engines.base import load_translator as load_backend


def load_translator(
    checkpoint: str,
    *,
    threads: int,
    device: str = "cpu",
    dtype: str = "float32",
    engine: str = "torch",
    compute_type: str | None = None,
) -> Engine:
    """Load as the Translator does, with ``threads`` compute threads (torch's for the whole
    process)."""
    settings = TranslatorSettings(
        model=checkpoint,
        device=device,
        dtype=dtype,
        engine=engine,
        compute_type=compute_type,
        threads=threads,
    )
    return load_backend(settings, device)


def batches(texts: Sequence[str], batch_size: int) -> list[Sequence[str]]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]


def batched_sentences_per_s(
    translator: Engine,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    warmup_batches: int = 1,
    target: str = "fr",
    outputs: list[str] | None = None,
) -> float:
    """Sentences per second over ``texts`` in batches of ``batch_size``, in order.

    The first ``warmup_batches`` batches run once untimed first (first calls pay for lazy
    initialisation); then every batch is timed, one ``translate`` call each. ``outputs``, when
    given, receives the translations (to count how many differ between engines).
    """
    groups = batches(texts, batch_size)
    for group in groups[:warmup_batches]:
        translator.translate(group, target)
    # translate() returns decoded strings, so a GPU has finished by the time it returns.
    translated = []
    started = time.perf_counter()
    for group in groups:
        translated += translator.translate(group, target)
    elapsed = time.perf_counter() - started
    if outputs is not None:
        outputs[:] = translated
    return len(texts) / elapsed


def length_grouped_sentences_per_s(
    translator: Engine,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    max_batch_tokens: int | None = None,
    target: str = "fr",
) -> tuple[float, float]:
    """Sentences/s and padding waste when each batch of ``batch_size`` (in arrival order) is
    cut by length into groups under ``max_batch_tokens`` padded tokens, as the Translator does.

    ``None`` means one generate per batch, padded to its longest sentence (naive batching).
    """
    groups_of = []
    real = padded = 0
    for group in batches(texts, batch_size):
        lengths = translator.count_tokens(group, target)
        budget = max_batch_tokens or batch_size * max(lengths)
        for indices in group_by_length(lengths, budget):
            groups_of.append([group[i] for i in indices])
            real += sum(lengths[i] for i in indices)
            padded += len(indices) * max(lengths[i] for i in indices)
    translator.translate(groups_of[0], target)  # warm-up
    started = time.perf_counter()
    for group in groups_of:
        translator.translate(group, target)
    return len(texts) / (time.perf_counter() - started), padding_waste(real, padded)


def lone_sentence_ms(
    translator: Engine,
    text: str,
    *,
    runs: int = 5,
    warmup: int = 1,
    target: str = "fr",
) -> float:
    """Median milliseconds to translate ``text`` alone, over ``runs`` timed calls."""
    for _ in range(warmup):
        translator.translate([text], target)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        translator.translate([text], target)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="hub id or local folder")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--engine", default="torch", choices=["torch", "ctranslate2"])
    parser.add_argument("--compute-type", default=None, help="ctranslate2 only, e.g. int8")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workload", default="uniform")
    parser.add_argument("--count", type=int, default=128, help="sentences timed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lone-runs", type=int, default=5, help="0: no lone sentence")
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run on SCHED_FIFO, as a Translator with realtime_model_thread does",
    )
    args = parser.parse_args(argv)
    # Before torch starts its OpenMP threads, which inherit the policy.
    policy = make_calling_thread_realtime() if args.realtime else calling_thread_policy()

    translator = load_translator(
        args.checkpoint,
        threads=args.threads,
        device=args.device,
        dtype=args.dtype,
        engine=args.engine,
        compute_type=args.compute_type,
    )
    texts = workload(args.workload, args.count, seed=args.seed)
    result = {
        "checkpoint": args.checkpoint,
        "device": args.device,
        "dtype": args.dtype,
        "engine": args.engine,
        "compute_type": args.compute_type,
        "threads": args.threads,
        "thread_policy": policy,
        "workload": args.workload,
        "sentences": len(texts),
        "batch_size": args.batch_size,
        "sentences_per_s": batched_sentences_per_s(translator, texts, batch_size=args.batch_size),
        "lone_sentence_ms": (
            lone_sentence_ms(translator, texts[0], runs=args.lone_runs) if args.lone_runs else None
        ),
        "torch": torch.__version__,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
