"""`make bench`'s mixed-pair line: the multi-model graph under traffic that cycles language pairs.

configs/local.yaml as shipped (three phrasebook checkpoints, at most two loaded per Translator
replica, fr -> de pivoted through English), in a Ray session of its own. The same closed-loop
clients alternate, round by round (A B, then B A), between two points:

- mixed pairs: each client sends one phrasebook sentence a request, its pair cycling through
  en-fr, en-de, fr-en, de-en, de-fr, fr-de, each client from its own place in that cycle;
- single pair: en-fr only, the reference on the same graph in the same session.

The row has the mixed points' medians, the median of the rounds' mixed / single-pair throughput,
and the model evictions ``GET /info`` counts (all replicas) around each timed point.

    python -m benchmarks.run build/bench-t5-small --mixed-pairs-only --quick
"""

from __future__ import annotations

import asyncio
import copy
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks import load

ROOT = Path(__file__).resolve().parent.parent
CONFIG_NAME = "local"
# Each one's model: T5 (en-fr, en-de), Marian (fr-en), M2M100 (de-en, de-fr); fr-de pivots.
PAIRS: tuple[tuple[str, str], ...] = (
    ("en", "fr"),
    ("en", "de"),
    ("fr", "en"),
    ("de", "en"),
    ("de", "fr"),
    ("fr", "de"),
)
SINGLE_PAIR = ("en", "fr")
CLIENTS = 8
SYSTEM = "graph, 3 models"
WORKLOAD = "mixed pairs"
MIXED, SINGLE = "mixed pairs", "single pair"
# Clients start this many rows apart in the phrasebook, so that no two send the same sentence
# at the same step.
SENTENCE_SPREAD = 16


@dataclass(frozen=True)
class PairCounts:
    """Requests per client at each point: ``timed`` after ``warmup`` untimed (one request per
    client already reaches every pair, so every model has loaded once before the clock starts)."""

    timed: int = 12
    warmup: int = 1


FULL = PairCounts()
QUICK = PairCounts(timed=3, warmup=1)

Body = dict[str, Any]
Log = Callable[[str], None]


def with_absolute_checkpoints(config: dict[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """The config with each of its Translator's checkpoints under ``root``: local.yaml's paths
    are relative to where `serve run` starts, and Ray's workers start elsewhere."""
    from graph.deploy import deployment_of

    config = copy.deepcopy(config)
    user_config = deployment_of(config, "Translator")["user_config"]
    for model in user_config.get("models") or [user_config]:
        model["model"] = str(root / model["model"])  # an absolute path stays as it is
    return config


def checkpoints(config: dict[str, Any]) -> list[str]:
    """Each model's checkpoint folder, as the config names it."""
    from graph.deploy import deployment_of

    user_config = deployment_of(config, "Translator")["user_config"]
    return [model["model"] for model in user_config.get("models") or [user_config]]


def engine_label(config: dict[str, Any]) -> str:
    """``torch float32`` when every model runs so; otherwise each distinct one, joined."""
    from deployments.core.settings import TranslatorSettings
    from graph.deploy import deployment_of

    settings = TranslatorSettings.model_validate(deployment_of(config, "Translator")["user_config"])
    labels = [f"{m.engine} {m.compute_type or m.dtype}" for m in settings.models]
    return ", ".join(dict.fromkeys(labels))


def pair_for(client: int, step: int, pairs: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """Client ``client``'s pair at its ``step``-th request: the cycle from the client's own
    offset, so that at any moment the clients' requests are spread over the pairs."""
    return pairs[(client + step) % len(pairs)]


def picker(
    pairs: Sequence[tuple[str, str]], sentences: Mapping[tuple[str, str], Sequence[str]]
) -> load.Pick[Body]:
    """What each client sends: ``{"text", "source", "target"}``, one sentence of its pair."""

    def pick(client: int, step: int) -> Body:
        source, target = pair_for(client, step, pairs)
        texts = sentences[source, target]
        text = texts[(step // len(pairs) + client * SENTENCE_SPREAD) % len(texts)]
        return {"text": text, "source": source, "target": target}

    return pick


def phrasebook_sentences(
    pairs: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], list[str]]:
    """The phrasebook's sentences for each pair, in its source language."""
    from checkpoints.phrasebook import load_phrasebook

    pairs = list(pairs)
    sentences: dict[tuple[str, str], list[str]] = {pair: [] for pair in pairs}
    for phrase in load_phrasebook(pairs=pairs):
        sentences[phrase.source, phrase.target].append(phrase.text)
    return sentences


def point_order(rounds: int) -> list[tuple[int, str]]:
    """(round, point) in the order they run: A B, then B A, so neither is always first."""
    forward = [MIXED, SINGLE]
    return [(r, name) for r in range(rounds) for name in (forward if r % 2 == 0 else forward[::-1])]


async def evictions(session: aiohttp.ClientSession, base_url: str) -> int:
    """The models every Translator replica has unloaded so far, as ``GET /info`` counts them."""
    async with session.get(f"{base_url}/info") as response:
        response.raise_for_status()
        described = await response.json()
    return sum(replica["evictions"] for replica in described["replicas"])


def phrasebook_picks() -> dict[str, load.Pick[Body]]:
    """Each point's requests: the six pairs in turn, or en-fr alone."""
    return {
        MIXED: picker(PAIRS, phrasebook_sentences(PAIRS)),
        SINGLE: picker([SINGLE_PAIR], phrasebook_sentences([SINGLE_PAIR])),
    }


async def drive(
    base_url: str,
    picks: Mapping[str, load.Pick[Body]],
    counts: PairCounts,
    rounds: int,
    log: Log,
    clients: int = CLIENTS,
) -> list[dict[str, Any]]:
    """Every point of every round, each warmed up, then timed between two readings of the
    evictions."""
    points = []
    async with (
        load.http_sender(base_url) as send,
        aiohttp.ClientSession(trust_env=False) as info,
    ):
        for number, name in point_order(rounds):
            await load.closed_loop(
                send, picks[name], concurrency=clients, requests=clients * counts.warmup
            )
            before = await evictions(info, base_url)
            result = await load.closed_loop(
                send, picks[name], concurrency=clients, requests=clients * counts.timed
            )
            after = await evictions(info, base_url)
            log(f"{name} round {number + 1}: {result.summary()}; evictions {before} -> {after}")
            points.append(
                {
                    "point": name,
                    "round": number,
                    **result.to_dict(),
                    "evictions_before": before,
                    "evictions_after": after,
                }
            )
    return points


def session(
    config: dict[str, Any], port: int, counts: PairCounts, rounds: int, log: Log
) -> dict[str, Any]:
    """One Ray session, started as `make run` starts it, serving ``config``; down on return."""
    from graph.deploy import deploy, local_serve

    with local_serve(port):
        log("Ray and Serve up")
        deploy(config, timeout_s=300)
        log(f"graph deployed: {CONFIG_NAME} as shipped, {len(checkpoints(config))} models")
        base_url = f"http://127.0.0.1:{port}"
        points = asyncio.run(drive(base_url, phrasebook_picks(), counts, rounds, log))
    log("Ray down")
    return {"config": CONFIG_NAME, "engine": engine_label(config), "points": points}


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _summary(points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    errors, examples = load.merged_errors(points)
    return {
        "throughput": _median(p["throughput"] for p in points),
        "p50_ms": _median(p["p50_ms"] for p in points),
        "p95_ms": _median(p["p95_ms"] for p in points),
        "p99_ms": _median(p["p99_ms"] for p in points),
        "issued": sum(p["issued"] for p in points),
        "completed": sum(p["completed"] for p in points),
        "errors": errors,
        "error_examples": examples,
        # during the timed requests only: warm-up loads are not counted
        "evictions": sum(p["evictions_after"] - p["evictions_before"] for p in points),
    }


def ratio(mixed: float | None, single: float | None) -> float | None:
    """Mixed over single-pair throughput; none when either is missing or single is nil."""
    if mixed is None or not single:
        return None
    return mixed / single


def table_row(measured: dict[str, Any]) -> dict[str, Any]:
    """The results table's line: the mixed points' medians and the median of the rounds'
    mixed / single-pair ratios, each round's mixed point against its own single-pair point."""
    points = measured["points"]
    mixed = [p for p in points if p["point"] == MIXED]
    single = [p for p in points if p["point"] == SINGLE]
    single_by_round = {p["round"]: p for p in single}
    ratios = [
        ratio(p["throughput"], single_by_round[p["round"]]["throughput"])
        for p in mixed
        if p["round"] in single_by_round
    ]
    kept = [r for r in ratios if r is not None]
    return {
        "system": SYSTEM,
        "engine": measured["engine"],
        "workload": WORKLOAD,
        "concurrency": mixed[0]["concurrency"] if mixed else CLIENTS,
        **_summary(mixed),
        "measurements": len(mixed),
        "vs_single_pair": statistics.median(kept) if kept else None,
        "vs_single_pair_rounds": ratios,
        "evictions_before": mixed[0]["evictions_before"] if mixed else None,
        "evictions_after": mixed[-1]["evictions_after"] if mixed else None,
        "single_pair": {"pair": "-".join(SINGLE_PAIR), **_summary(single)},
    }
