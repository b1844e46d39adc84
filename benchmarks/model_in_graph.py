"""Is the model slower inside the graph? The same batch, alternately, in this process and in the
Translator replica, with the graph up for both.

make bench compares the graph with the model alone on an otherwise idle machine (Ray down), as
the throughput issue defines the limit. This answers a narrower question, for whoever chases the
gap: each round translates a batch here (``translate`` as the Translator calls it), then sends
the same sentences to the graph as concurrent HTTP requests; the Translator merges them into one
model call and reports its duration in every answer's ``X-Model-Time-Ms``. A ratio near 1 means
the Translator's code costs nothing and the gap is the machine shared with Ray and Serve.

    python -m benchmarks.model_in_graph build/bench-t5-small --rounds 8 --batch 32
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from benchmarks import inprocess, load
from benchmarks.run import PORT
from benchmarks.workloads import workload


async def _graph_model_ms(base_url: str, batch: list[str]) -> tuple[float, float]:
    """(the Translator's longest model call among the answers, the whole burst's wall time)."""
    model_ms: list[float] = []

    def note(headers) -> None:
        model_ms.append(float(headers["X-Model-Time-Ms"]))

    async with load.http_sender(base_url, on_headers=note) as send:
        started = time.perf_counter()
        await asyncio.gather(*(send(text) for text in batch))
        wall_ms = (time.perf_counter() - started) * 1000
    return max(model_ms), wall_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the benchmark checkpoint (make bench-model)")
    parser.add_argument("--config", default="local", help="configs/<name>.yaml for the graph")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32, help="sentences per round")
    args = parser.parse_args(argv)

    from graph.deploy import deploy, deployment_of, load_config, local_serve

    config = load_config(args.config, model=str(Path(args.checkpoint).resolve()), port=PORT)
    threads = deployment_of(config, "Translator")["user_config"].get("threads") or 2
    translator = inprocess.load_translator(args.checkpoint, threads=threads)
    texts = workload("uniform", args.batch * (args.rounds + 1), seed=0)
    batches = inprocess.batches(texts, args.batch)

    base_url = f"http://127.0.0.1:{PORT}"
    here_ms, replica_ms = [], []
    with local_serve(PORT):  # as make run and make bench start Ray
        deploy(config)
        translator.translate(batches[0], "fr")  # warm-up, both sides
        asyncio.run(_graph_model_ms(base_url, batches[0]))
        for number, batch in enumerate(batches[1:], 1):
            started = time.perf_counter()
            translator.translate(batch, "fr")
            here_ms.append((time.perf_counter() - started) * 1000)
            model_ms, wall_ms = asyncio.run(_graph_model_ms(base_url, batch))
            replica_ms.append(model_ms)
            print(
                f"round {number}: here {here_ms[-1]:.0f} ms, in the Translator {model_ms:.0f} ms"
                f" (the HTTP burst {wall_ms:.0f} ms)"
            )
    here, replica = statistics.median(here_ms), statistics.median(replica_ms)
    print(
        f"median of {args.rounds} rounds of {args.batch}: here {here:.0f} ms, "
        f"in the Translator {replica:.0f} ms, ratio {replica / here:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
