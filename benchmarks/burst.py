"""A burst far past capacity on the t5-small-shaped checkpoint: does admission by expected wait
hold, with the real model on this machine?

    make burst                # python -m benchmarks.burst

The graph as ``make run`` deploys it (configs/local.yaml, its ``max_queue_wait_s``) on the
benchmark checkpoint. A few rounds of 32 requests teach the ingress the graph's rate, then
``--requests`` single-sentence requests are sent at once. Every answer must be a 200 or a 503
with Retry-After; the bar is that no 200 waits longer than ``max_queue_wait_s`` plus one model
call, measured from the ingress's admission to its answer (``X-Total-Time-Ms``; the client's
own latency adds the time its connections wait to be accepted, reported beside it). The result
goes to ``benchmarks/results/burst-cpu.{json,md}``, with the command and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import requests

from benchmarks.report import machine_line, provenance
from benchmarks.workloads import workload
from graph.deploy import deploy, load_config, local_serve

RESULTS = Path(__file__).resolve().parent / "results"
PORT = 8712
WARM_UP_ROUNDS = 3
WARM_UP_REQUESTS = 32


async def send_all(base_url: str, texts: list[str]) -> list[dict[str, Any]]:
    """Every text as its own request, all at once; one record per request."""

    async def one(session: aiohttp.ClientSession, text: str) -> dict[str, Any]:
        started = time.monotonic()
        try:
            async with session.post("translate", json={"text": text}) as response:
                body = await response.json(content_type=None)
                headers = response.headers
                return {
                    "status": response.status,
                    "latency_s": time.monotonic() - started,
                    "total_s": float(headers.get("X-Total-Time-Ms", "nan")) / 1000,
                    "retry_after": headers.get("Retry-After"),
                    "translated": isinstance(body, dict)
                    and isinstance(body.get("translation"), str),
                }
        except Exception as error:  # a reset connection or a timeout: a lost request
            return {"status": type(error).__name__, "latency_s": time.monotonic() - started}

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        base_url + "/", connector=connector, timeout=timeout, trust_env=False
    ) as session:
        return await asyncio.gather(*(one(session, text) for text in texts))


def served(info: dict[str, Any]) -> tuple[int, float]:
    return info["served"]["model_calls"], info["served"]["model_busy_s"]


def burst(base_url: str, requests_count: int) -> dict[str, Any]:
    for round_ in range(WARM_UP_ROUNDS):
        texts = workload("uniform", WARM_UP_REQUESTS, seed=100 + round_)
        asyncio.run(send_all(base_url, texts))
    before = requests.get(f"{base_url}/info", timeout=30).json()
    started = time.monotonic()
    records = asyncio.run(send_all(base_url, workload("uniform", requests_count, seed=1)))
    elapsed = time.monotonic() - started
    after = requests.get(f"{base_url}/info", timeout=30).json()
    (calls_before, busy_before), (calls_after, busy_after) = served(before), served(after)
    calls = calls_after - calls_before
    call_s = (busy_after - busy_before) / calls if calls else 0.0
    ok = [r for r in records if r["status"] == 200 and r["translated"]]
    refused = [r for r in records if r["status"] == 503 and r["retry_after"]]
    failed = Counter(str(r["status"]) for r in records if r not in ok and r not in refused)
    bound_s = before["admission"]["max_queue_wait_s"] + call_s
    slowest_ok = max((r["total_s"] for r in ok), default=0.0)
    refusals = sorted(r["latency_s"] for r in refused) or [0.0]
    return {
        "requests": requests_count,
        "elapsed_s": round(elapsed, 2),
        "ok": len(ok),
        "refused": len(refused),
        "failed": dict(failed),
        "rate_texts_per_s": before["admission"]["rate_texts_per_s"],
        "max_queue_wait_s": before["admission"]["max_queue_wait_s"],
        "model_calls": calls,
        "mean_call_s": round(call_s, 3),
        "bound_s": round(bound_s, 3),
        "slowest_ok_ingress_s": round(slowest_ok, 3),
        "slowest_ok_client_s": round(max((r["latency_s"] for r in ok), default=0.0), 3),
        "median_refusal_s": round(refusals[len(refusals) // 2], 3),
        "held": not failed and slowest_ok <= bound_s,
    }


def markdown(result: dict[str, Any]) -> str:
    r = result["burst"]
    return "\n".join(
        [
            f"# Burst: {r['requests']} requests at once, configs/{result['config']}.yaml",
            "",
            f"Command: `{result['command']}`, {result['provenance']['date']}; "
            f"git {result['provenance']['git_sha']}; machine: {machine_line(result['provenance'])}",
            "",
            "| 200 | 503 + Retry-After | failed | slowest 200 (ingress) | slowest 200 (client) "
            "| bound: max_queue_wait_s + one call | median 503 | rate before | held |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {r['ok']} | {r['refused']} | {sum(r['failed'].values())} "
            f"| {r['slowest_ok_ingress_s']:.2f} s | {r['slowest_ok_client_s']:.2f} s "
            f"| {r['max_queue_wait_s']:g} + {r['mean_call_s']:.2f} s "
            f"| {r['median_refusal_s']:.2f} s "
            f"| {r['rate_texts_per_s']} texts/s | {'yes' if r['held'] else 'NO'} |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--checkpoint", default="build/bench-t5-small")
    parser.add_argument("--config", default="local", help="configs/<name>.yaml")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--output", type=Path, default=RESULTS / "burst-cpu")
    args = parser.parse_args(argv)
    config = load_config(args.config, model=args.checkpoint, port=args.port, first_model_only=True)
    with local_serve(args.port, num_cpus=4):
        deploy(config)
        outcome = burst(f"http://127.0.0.1:{args.port}", args.requests)
    result = {
        "command": " ".join(
            ["python -m benchmarks.burst", *(argv if argv is not None else sys.argv[1:])]
        ),
        "config": args.config,
        "provenance": provenance(),
        "burst": outcome,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    args.output.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return 0 if outcome["held"] else 1


if __name__ == "__main__":
    sys.exit(main())
