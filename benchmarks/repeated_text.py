"""The repeated-text line: the translation memory on traffic that repeats itself.

Real traffic repeats (UI strings, subtitles, navigation, one page for many readers). Here each
request holds 1-8 sentences drawn from a fixed pool of ``POOL`` sentences with a Zipf
distribution (s = 1.1: the sentence of rank k is drawn with weight k^-1.1), every client from a
seeded sequence of its own. One graph (configs/cpu-fast.yaml's Translator on the bench
checkpoint, its memory as shipped; ``--config local`` for torch) in a Ray session of its own.
The same closed-loop clients alternate, round by round (A B, then B A), between two points:

- memory: the requests as they are, answered from the translation memory where it has them;
- no memory: the same requests with ``"cache": false``, translated anew by the model (the
  memory is neither read nor written).

The memory carries over from round to round, as in a service that has been up a while; before
the first round, ``FILL_TEXTS`` texts of the same traffic (other requests) fill it. The row has
each point's medians, the median of the rounds' memory / no-memory throughput, and the hit
ratio ``GET /info`` counts during the timed memory requests.

    python -m benchmarks.repeated_text build/bench-t5-small --quick
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shlex
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks import load, workloads

# CTranslate2 int8, the CPU engine for speed; --config local for torch.
CONFIG_NAME = "cpu-fast"
# Texts of the same traffic sent with the memory, untimed, before the first round: what a
# service has seen in its first minutes (at this size, about 0.8 of Zipf draws are hits).
FILL_TEXTS = 2000
# Few enough that a graph just started, whose rate is not yet known, admits them all.
FILL_CLIENTS = 4
POOL = 3000
ZIPF_S = 1.1
MAX_TEXTS = 8
MEMORY, NO_MEMORY = "memory", "no memory"
PORT = 8131
RESULTS = Path(__file__).resolve().parent / "results"

Body = dict[str, Any]
Log = Callable[[str], None]


@dataclass(frozen=True)
class Counts:
    """Requests per client at each point (``timed`` after ``warmup``), per client count."""

    timed: dict[int, int]
    warmup: int = 1
    fill_texts: int = FILL_TEXTS


FULL = Counts(timed={1: 12, 32: 4})
QUICK = Counts(timed={1: 2, 32: 1}, fill_texts=100)


async def fill(base_url: str, texts: int, log: Log) -> None:
    """Earlier traffic of the same kind, through the memory: requests no timed point sends."""
    pick = zipf_picker(workloads.uniform(POOL, seed=7))
    requests = max(1, round(texts / ((1 + MAX_TEXTS) / 2)))

    def earlier(client: int, step: int) -> Body:
        return pick(client + 1_000, step)

    async with load.http_sender(base_url) as send:
        result = await load.closed_loop(send, earlier, concurrency=FILL_CLIENTS, requests=requests)
    log(f"fill: {result.summary()}")


def zipf_picker(pool: Sequence[str], s: float = ZIPF_S, *, seed: int = 0) -> load.Pick[Body]:
    """Client ``c``'s ``n``-th request: 1-8 sentences of ``pool``, rank k drawn with weight
    k^-s, from a generator seeded by (seed, c, n): the same requests in every run and point."""
    cumulative = list(itertools.accumulate(rank**-s for rank in range(1, len(pool) + 1)))

    def pick(client: int, step: int) -> Body:
        rng = random.Random(f"{seed}:{client}:{step}")
        count = rng.randint(1, MAX_TEXTS)
        return {"text": rng.choices(pool, cum_weights=cumulative, k=count)}

    return pick


def without_memory(pick: load.Pick[Body]) -> load.Pick[Body]:
    return lambda client, step: {**pick(client, step), "cache": False}


def point_order(rounds: int) -> list[tuple[int, str]]:
    """(round, point) in the order they run: A B, then B A, so neither is always first."""
    forward = [MEMORY, NO_MEMORY]
    return [(r, name) for r in range(rounds) for name in (forward if r % 2 == 0 else forward[::-1])]


async def lookups(session: aiohttp.ClientSession, base_url: str) -> tuple[int, int]:
    """(hits, misses) of the translation memory, as ``GET /info`` counts them."""
    async with session.get(f"{base_url}/info") as response:
        response.raise_for_status()
        memory = (await response.json())["translation_memory"]
    return memory["hits"], memory["misses"]


async def drive(
    base_url: str, clients: int, counts: Counts, rounds: int, log: Log
) -> list[dict[str, Any]]:
    memory = zipf_picker(workloads.uniform(POOL, seed=7))
    picks = {MEMORY: memory, NO_MEMORY: without_memory(memory)}
    points = []
    timed = counts.timed[clients]
    async with load.http_sender(base_url) as send, aiohttp.ClientSession(trust_env=False) as info:
        for number, name in point_order(rounds):
            # Each point its own requests: round r's are steps [r * per, (r + 1) * per).
            per = counts.warmup + timed
            offset = number * per

            def warming(client: int, step: int, name: str = name, offset: int = offset) -> Body:
                return picks[name](client, step + offset)

            def timing(client: int, step: int, name: str = name, offset: int = offset) -> Body:
                return picks[name](client, step + offset + counts.warmup)

            warm = clients * counts.warmup
            await load.closed_loop(send, warming, concurrency=clients, requests=warm)
            before = await lookups(info, base_url)
            result = await load.closed_loop(
                send, timing, concurrency=clients, requests=clients * timed
            )
            after = await lookups(info, base_url)
            hits, misses = after[0] - before[0], after[1] - before[1]
            log(
                f"{name} c={clients} round {number + 1}: {result.summary()}; hits {hits}/"
                f"{hits + misses}"
            )
            points.append(
                {"point": name, "round": number, **result.to_dict(), "hits": hits, "misses": misses}
            )
    return points


def config_for(name: str, checkpoint: str, port: int) -> dict[str, Any]:
    from graph.deploy import load_config

    return load_config(name, model=checkpoint, port=port, first_model_only=True)


def session(
    config: dict[str, Any], port: int, clients: Sequence[int], counts: Counts, rounds: int, log: Log
) -> list[dict[str, Any]]:
    from graph.deploy import deploy, local_serve

    with local_serve(port):
        deploy(config, timeout_s=300)
        log("graph deployed")
        base_url = f"http://127.0.0.1:{port}"
        asyncio.run(fill(base_url, counts.fill_texts, log))
        points = []
        for count in clients:
            for point in asyncio.run(drive(base_url, count, counts, rounds, log)):
                points.append({**point, "clients": count})
    log("Ray down")
    return points


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per client count: each point's medians; memory / no memory, round by round."""
    table = []
    for clients in sorted({p["clients"] for p in points}):
        mine = [p for p in points if p["clients"] == clients]
        by = {name: [p for p in mine if p["point"] == name] for name in (MEMORY, NO_MEMORY)}
        off_by_round = {p["round"]: p for p in by[NO_MEMORY]}
        ratios = [
            p["throughput"] / off_by_round[p["round"]]["throughput"]
            for p in by[MEMORY]
            if off_by_round.get(p["round"], {}).get("throughput")
        ]
        hits = sum(p["hits"] for p in by[MEMORY])
        looked = hits + sum(p["misses"] for p in by[MEMORY])
        errors, _ = load.merged_errors(mine)
        table.append(
            {
                "clients": clients,
                **{
                    f"{key}_{tag}": _median([p[key] for p in by[name]])
                    for name, tag in ((MEMORY, "memory"), (NO_MEMORY, "no_memory"))
                    for key in ("throughput", "p50_ms", "p95_ms")
                },
                "memory_vs_no_memory": _median(ratios),
                "rounds": ratios,
                "hit_ratio": hits / looked if looked else None,
                "errors": errors,
            }
        )
    return table


def markdown(table: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"Repeated text (Zipf s={ZIPF_S} over {POOL} sentences, 1-{MAX_TEXTS} a request), "
        f"{meta['engine']}, `{meta['command']}` at git {meta['git_sha'][:7]}, {meta['date']}, "
        f"{meta['machine']}",
        "",
        "| clients | memory req/s | p95 ms | no memory req/s | p95 ms | memory / no memory "
        "| hit ratio | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['clients']} | {r['throughput_memory']:.2f} | {r['p95_ms_memory']:.0f} | "
            f"{r['throughput_no_memory']:.2f} | {r['p95_ms_no_memory']:.0f} | "
            f"{r['memory_vs_no_memory']:.1f}x | {r['hit_ratio']:.2f} | {r['errors']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="the bench checkpoint (make bench-model)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--config", default=CONFIG_NAME, help="configs/<name>.yaml")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from benchmarks.report import machine_line, provenance
    from benchmarks.run import engine_label

    config = config_for(args.config, str(Path(args.checkpoint).resolve()), PORT)
    command = os.environ.get("BENCH_COMMAND") or shlex.join(
        ["python", "-m", "benchmarks.repeated_text", *(sys.argv[1:] if argv is None else argv)]
    )
    points = session(
        config,
        PORT,
        args.clients,
        QUICK if args.quick else FULL,
        args.rounds,
        lambda line: print(line, flush=True),
    )
    from graph.deploy import deployment_of

    described = provenance()
    meta = {
        "command": command,
        "engine": engine_label(deployment_of(config, "Translator")["user_config"]),
        "machine": machine_line(described),
        "git_sha": described["git_sha"],
        "date": described["date"],
    }
    table = rows(points)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / "latest-repeated-text"
    stem.with_suffix(".json").write_text(
        json.dumps({**meta, "rows": table, "points": points}, indent=2) + "\n"
    )
    stem.with_suffix(".md").write_text(markdown(table, meta))
    print(markdown(table, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
