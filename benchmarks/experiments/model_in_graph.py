"""Is the model slower inside the Translator replica than alone beside it, with the graph up?

make bench measures the model alone with Ray down. This narrows down what the graph loses
against that: with Ray and the graph up (configs/local.yaml, only the checkpoint changed), each
round times the same batch of sentences twice, in turn: by the model alone in a process of its
own (benchmarks/model_process.py, the Translator's runner), and sent to the graph as concurrent
requests, which the Translator merges into one model call and reports in every answer's
X-Model-Time-Ms. A ratio near 1 means the replica's model call costs what the model alone costs
on the same busy machine: the rest of the gap is Ray's presence, not the Translator's code.

    python -m benchmarks.experiments.model_in_graph build/bench-t5-small --rounds 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

from benchmarks import load
from benchmarks.model_process import ModelProcess
from benchmarks.run import HAPROXY_PORTS, PORT
from benchmarks.workloads import workload


async def replica_model_ms(base_url: str, batch: list[str]) -> float:
    """The Translator's model call for ``batch`` sent at once: the longest X-Model-Time-Ms."""
    model_ms: list[float] = []

    def note(headers) -> None:
        model_ms.append(float(headers["X-Model-Time-Ms"]))

    async with load.http_sender(base_url, on_headers=note) as send:
        await asyncio.gather(*(send(text) for text in batch))
    return max(model_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the benchmark checkpoint (make bench-model)")
    parser.add_argument("--config", default="local", help="configs/<name>.yaml for the graph")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32, help="sentences per round")
    parser.add_argument("--workload", default="uniform")
    args = parser.parse_args(argv)
    from graph.deploy import deploy, deployment_of, load_config, local_serve

    config = load_config(
        args.config, model=str(Path(args.checkpoint).resolve()), port=PORT, first_model_only=True
    )
    texts = workload(args.workload, args.batch * (args.rounds + 1), seed=0)
    batches = [texts[i : i + args.batch] for i in range(0, len(texts), args.batch)]
    base_url = f"http://127.0.0.1:{PORT}"
    alone_ms, replica_ms = [], []
    for name, value in HAPROXY_PORTS.items():
        os.environ.setdefault(name, value)
    with ModelProcess(deployment_of(config, "Translator")) as model, local_serve(PORT):
        deploy(config)
        model.drive(batches[0], clients=args.batch, requests=0, warmup=args.batch)
        asyncio.run(replica_model_ms(base_url, batches[0]))  # both sides warm
        for number, batch in enumerate(batches[1:], 1):
            answer = model.drive(batch, clients=args.batch, requests=len(batch))
            alone_ms.append(answer["result"]["p50_ms"])
            replica_ms.append(asyncio.run(replica_model_ms(base_url, batch)))
            print(f"round {number}: alone {alone_ms[-1]:.0f} ms, replica {replica_ms[-1]:.0f} ms")
    alone, replica = statistics.median(alone_ms), statistics.median(replica_ms)
    print(
        f"median of {args.rounds} rounds of {args.batch}: alone {alone:.0f} ms, "
        f"in the replica {replica:.0f} ms, ratio {replica / alone:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
