"""The soak: the graph at about 70% of its measured capacity for a long while, its Translator
replica killed every few minutes. Does anything get lost, and does memory stay flat?

    make soak MINUTES=30      # python -m benchmarks.soak --minutes 30

It measures the capacity first (32 closed-loop clients), then sends Poisson arrivals at
``--load`` times that rate. Every answer is counted: 200, 503 with Retry-After (allowed: the
graph said when to come back), or failed (anything else, a 503 without Retry-After included).
Each replica's resident memory is sampled every ``--sample-every`` seconds. The result goes to
``benchmarks/results/soak-cpu.{json,md}``, with the command and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from benchmarks.load import closed_loop, http_sender, poisson_arrivals
from benchmarks.report import machine_line, provenance
from benchmarks.workloads import workload
from graph.deploy import deploy, deployment_of, load_config, local_serve, replicas

RESULTS = Path(__file__).resolve().parent / "results"
PORT = 8711
DEPLOYMENTS = ("TranslationIngress", "Translator", "Postprocessor")


@dataclass
class Tally:
    sent: int = 0
    ok: int = 0
    refused: int = 0  # 503 with Retry-After
    failed: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


async def one(session: aiohttp.ClientSession, text: str, tally: Tally) -> None:
    tally.sent += 1
    started = time.perf_counter()
    try:
        async with session.post("translate", json={"text": text}) as response:
            body = await response.json(content_type=None)
            if response.status == 200 and isinstance(body.get("translation"), str):
                tally.ok += 1
                tally.latencies.append(time.perf_counter() - started)
            elif response.status == 503 and "Retry-After" in response.headers:
                tally.refused += 1
            else:
                code = body.get("error", {}).get("code") if isinstance(body, dict) else None
                tally.failed[f"http_{response.status}:{code}"] += 1
    except Exception as error:  # a reset connection, a timeout: a lost request
        tally.failed[type(error).__name__] += 1


async def drive(base_url: str, texts: list[str], rate: float, seconds: float, tally: Tally) -> None:
    """Poisson arrivals at ``rate`` for ``seconds``; waits for every answer."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        base_url + "/", connector=connector, timeout=timeout, trust_env=False
    ) as session:
        start = time.perf_counter()
        tasks = []
        arrivals = poisson_arrivals(rate, seconds, random.Random(0))
        for index, offset in enumerate(arrivals):
            delay = start + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, texts[index % len(texts)], tally)))
        await asyncio.gather(*tasks)


def replica_memory() -> list[dict[str, Any]]:
    """Each live replica's resident memory, by deployment and replica id."""
    samples = []
    for deployment, live in replicas().items():
        for replica in live:
            try:
                rss = psutil.Process(replica.pid).memory_info().rss if replica.pid else None
            except psutil.NoSuchProcess:
                rss = None
            if rss is not None:
                samples.append(
                    {"deployment": deployment, "replica": replica.replica_id, "rss_mb": rss / 2**20}
                )
    return samples


def kill_translator() -> str | None:
    """SIGKILL the Translator replica's process, as the OOM killer would."""
    for replica in replicas().get("Translator", []):
        if replica.pid:
            os.kill(replica.pid, signal.SIGKILL)
            return replica.replica_id
    return None


async def background(
    seconds: float, kill_every_s: float, sample_every_s: float, started: float, log: dict
) -> None:
    """Samples memory and kills the Translator on their schedules until ``seconds`` pass."""
    next_kill = started + kill_every_s
    while (now := time.monotonic()) < started + seconds:
        elapsed = round(now - started, 1)
        for sample in await asyncio.to_thread(replica_memory):
            log["memory"].append({"t_s": elapsed, **sample})
        if now >= next_kill:
            killed = await asyncio.to_thread(kill_translator)
            log["kills"].append({"t_s": elapsed, "replica": killed})
            print(f"[{elapsed:7.1f} s] killed Translator replica {killed}", flush=True)
            next_kill += kill_every_s
        await asyncio.sleep(sample_every_s)


def memory_trend(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per replica: first and last quarter's median RSS, and the growth between them."""
    by_replica: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in samples:
        by_replica.setdefault((s["deployment"], s["replica"]), []).append((s["t_s"], s["rss_mb"]))
    trends = []
    for (deployment, replica), points in sorted(by_replica.items()):
        quarter = max(1, len(points) // 4)
        first = statistics.median(rss for _, rss in points[:quarter])
        last = statistics.median(rss for _, rss in points[-quarter:])
        trends.append(
            {
                "deployment": deployment,
                "replica": replica,
                "lived_s": round(points[-1][0] - points[0][0], 1),
                "first_mb": round(first, 1),
                "last_mb": round(last, 1),
                "growth_pct": round(100 * (last - first) / first, 1),
            }
        )
    return trends


def markdown(result: dict[str, Any]) -> str:
    t = result["tally"]
    lines = [
        f"# Soak: {result['minutes']} minutes at {result['load']:.0%} of capacity",
        "",
        f"Command: `{result['command']}`, {result['provenance']['date']}; "
        f"git {result['provenance']['git_sha']}; machine: {machine_line(result['provenance'])}",
        "",
        f"Capacity {result['capacity_rps']:.1f} req/s (32 clients); offered "
        f"{result['rate_rps']:.1f} req/s; Translator killed {len(result['kills'])} times.",
        "",
        "| sent | 200 | 503 + Retry-After | failed | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
        f"| {t['sent']} | {t['ok']} | {t['refused']} | {sum(t['failed'].values())} "
        f"| {t['p50_ms']:.0f} | {t['p99_ms']:.0f} |",
        "",
        "| deployment | replica | lived s | RSS first quarter MB | last quarter MB | growth |",
        "|---|---|---|---|---|---|",
    ]
    for m in result["memory_trend"]:
        lines.append(
            f"| {m['deployment']} | {m['replica']} | {m['lived_s']} | {m['first_mb']} "
            f"| {m['last_mb']} | {m['growth_pct']}% |"
        )
    return "\n".join(lines) + "\n"


async def soak(args: argparse.Namespace, base_url: str) -> dict[str, Any]:
    texts = workload("uniform", 512, seed=1)
    async with http_sender(base_url) as send:
        capacity = await closed_loop(
            send, texts, concurrency=32, duration_s=args.capacity_s, warmup_s=10, progress=False
        )
    print(capacity.summary(), flush=True)
    if capacity.errors:
        raise RuntimeError(f"the capacity measurement failed: {capacity.summary()}")
    rate = args.load * capacity.throughput
    print(f"soaking at {rate:.1f} req/s for {args.minutes:g} minutes", flush=True)
    tally = Tally()
    log: dict[str, list] = {"memory": [], "kills": []}
    seconds = args.minutes * 60
    started = time.monotonic()
    await asyncio.gather(
        drive(base_url, texts, rate, seconds, tally),
        background(seconds, args.kill_every, args.sample_every, started, log),
    )
    latencies = sorted(tally.latencies) or [0.0]
    return {
        "capacity_rps": capacity.throughput,
        "rate_rps": rate,
        "tally": {
            "sent": tally.sent,
            "ok": tally.ok,
            "refused": tally.refused,
            "failed": dict(tally.failed),
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        },
        "kills": log["kills"],
        "memory": log["memory"],
        "memory_trend": memory_trend(log["memory"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--checkpoint", default="build/bench-t5-small")
    parser.add_argument("--config", default="local", help="configs/<name>.yaml")
    parser.add_argument("--load", type=float, default=0.7, help="fraction of the capacity")
    parser.add_argument("--kill-every", type=float, default=300, help="seconds")
    parser.add_argument("--sample-every", type=float, default=15, help="seconds")
    parser.add_argument("--capacity-s", type=float, default=30, help="capacity measurement")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--output", type=Path, default=RESULTS / "soak-cpu")
    args = parser.parse_args(argv)
    config = load_config(args.config, model=args.checkpoint, port=args.port, first_model_only=True)
    # Serve notices a killed replica at its next health check.
    deployment_of(config, "Translator").setdefault("health_check_period_s", 2)
    with local_serve(args.port, num_cpus=4):
        deploy(config)
        result = asyncio.run(soak(args, f"http://127.0.0.1:{args.port}"))
    result = {
        "command": " ".join(
            ["python -m benchmarks.soak", *(argv if argv is not None else sys.argv[1:])]
        ),
        "minutes": args.minutes,
        "load": args.load,
        "provenance": provenance(),
        **result,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    args.output.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    failed = sum(result["tally"]["failed"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
