"""`make bench`: the in-process limit, the tutorial's app and the graph, side by side, one run.

All three on the same checkpoint (t5-small's architecture, every sentence exactly 32 new tokens),
on uniform and on mixed-length sentences. The graph runs the shipped configs/local.yaml with only
the Translator's ``model`` changed, so what is measured is what ships. Then each other engine
(``--engines``): its in-process limit, how many of its outputs differ from torch fp32's on the
same sentences, and (``--served-engines``) the same graph with only the Translator's engine
settings changed, reloaded in place. Writes JSON (git sha, versions, machine), a Markdown table
and a PNG plot under benchmarks/results/.

    python -m benchmarks.run build/bench-t5-small
    python -m benchmarks.run build/bench-t5-small --engines torch,ctranslate2:int8
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import inprocess, load
from benchmarks.model_process import ModelProcess
from benchmarks.report import markdown_table, provenance, write
from benchmarks.workloads import workload
from deployments.batching.scheduler import PEAK_MEMORY_CALLS

PORT = int(os.environ.get("BENCH_SERVE_PORT", "8124"))
RESULTS = Path(__file__).resolve().parent / "results"


PRIMARY = "torch float32"
DEFAULT_BACKENDS = (
    "torch,torch:bfloat16,ctranslate2:int8,ctranslate2:int8_float32,ctranslate2:float32"
)
DEFAULT_SERVED = "torch:bfloat16,ctranslate2:int8"


def parse_backend(spec: str) -> dict[str, Any]:
    """``torch``, ``torch:bfloat16``, ``ctranslate2:int8`` -> Translator settings and a label."""
    engine, _, kind = spec.strip().partition(":")
    if engine == "torch":
        settings = {"engine": "torch", "dtype": kind or "float32"}
        return {"label": f"torch {settings['dtype']}", "settings": settings}
    if engine == "ctranslate2":
        settings = {"engine": "ctranslate2", "dtype": "float32", "compute_type": kind or "int8"}
        return {"label": f"ctranslate2 {settings['compute_type']}", "settings": settings}
    raise argparse.ArgumentTypeError(
        f"engine {spec!r}: expected torch[:dtype] or ctranslate2[:compute_type]"
    )


def backend_list(text: str) -> list[dict[str, Any]]:
    return [parse_backend(spec) for spec in text.split(",") if spec.strip()]


def serve_shipped_dtype_beside(
    translator_config: dict, dtype: str | None, served: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Point ``translator_config`` at torch float32 and return ``served`` with the dtype the
    config ships (or ``dtype``, when given) added, unless it is float32 or already there.

    The main runs (the bars, the sweep, every row labelled PRIMARY) are torch float32, the
    reference the other engines' outputs are compared with; a config that ships another dtype
    (gpu.yaml: float16) is then served beside it, so its rows carry its own label.
    """
    shipped = parse_backend(f"torch:{dtype or translator_config.get('dtype', 'float32')}")
    translator_config["dtype"] = "float32"
    if shipped["label"] in {PRIMARY, *(b["label"] for b in served)}:
        return served
    return [*served, shipped]


def deploy_backend(config: dict, engine: dict[str, Any] | None) -> None:
    """``config`` with only the Translator's engine settings changed (``None``: as shipped),
    deployed: the replica reloads its model in place, as a ``serve deploy`` would."""
    from graph.deploy import deploy, deployment_of

    changed = copy.deepcopy(config)
    if engine is not None:
        deployment_of(changed, "Translator")["user_config"].update(engine["settings"])
    deploy(changed)


async def bench_paired(base_url: str, config: dict, texts, args) -> list[dict]:
    """The served engines and torch fp32 alternately, ``args.paired_rounds`` times, uniform at
    ``args.clients``: a ratio between two graphs measured minutes apart on this shared VM mixes
    in its drift; adjacent pairs mostly do not."""
    rows = []
    for round_number in range(args.paired_rounds):
        for engine in [None, *args.served_backends]:
            label = PRIMARY if engine is None else engine["label"]
            deploy_backend(config, engine)
            async with load.http_sender(base_url) as send:
                result = await drive_closed(send, texts["uniform"], args.clients, args)
            print(f"paired round {round_number} [{label}]: {result.summary()}")
            load_label = f"c={args.clients}, round {round_number + 1}"
            rows.append(
                row("graph HTTP paired", "uniform", result, load_label, label)
                | {"round": round_number}
            )
    return rows


def paired_ratios(paired: list[dict]) -> dict[str, Any]:
    """Per engine: each round's throughput over torch fp32's in the same round, and the median."""
    by_round: dict[int, dict[str, float]] = {}
    for r in paired:
        by_round.setdefault(r["round"], {})[r["engine"]] = r["throughput"]
    ratios: dict[str, list[float]] = {}
    for measured in by_round.values():
        for label, value in measured.items():
            if label != PRIMARY:
                ratios.setdefault(label, []).append(value / measured[PRIMARY])
    return {
        label: {"rounds": values, "median": statistics.median(values)}
        for label, values in ratios.items()
    }


def row(
    system: str, workload_name: str, result: load.LoadResult, load_label: str, engine=PRIMARY
) -> dict:
    return {
        "system": system,
        "engine": engine,
        "workload": workload_name,
        "load": load_label,
        **result.to_dict(),
    }


def inprocess_row(system: str, engine: str, workload_name: str, load_label: str, value: float):
    """A table row for an in-process figure: a throughput, no latencies, no errors."""
    return {
        "system": system,
        "engine": engine,
        "workload": workload_name,
        "load": load_label,
        "throughput": value,
        "p50_ms": None,
        "errors": {},
    }


def measure_limit(
    translator, args, texts: dict[str, list[str]], outputs: dict[str, list[str]] | None = None
) -> dict[str, float]:
    """The model alone: batched generate in batches of 32, in arrival order. ``outputs``, when
    given, receives each workload's translations."""
    rates = {}
    for name, sentences in texts.items():
        translated: list[str] = []
        rates[name] = inprocess.batched_sentences_per_s(
            translator, sentences[: args.inprocess_count], outputs=translated
        )
        if outputs is not None:
            outputs[name] = translated
    return rates


def limit_in_fresh_process(checkpoint: str, args) -> dict[str, float]:
    """The in-process limit (torch fp32, batches of 32) in a Python process of its own per
    workload, Ray down: nothing in it but the model, as in the Translator replica, on the same
    scheduling policy as the Translator's model thread (``args.realtime``). The benchmark's own
    process has by then loaded every engine's model and been a Ray driver."""
    rates = {}
    for name in ("uniform", "mixed"):
        command = [sys.executable, "-m", "benchmarks.inprocess", checkpoint]
        command += ["--threads", str(args.threads), "--device", args.device]
        command += ["--workload", name, "--count", str(args.inprocess_count), "--lone-runs", "0"]
        command += ["--realtime"] if args.realtime else []
        finished = subprocess.run(command, capture_output=True, text=True, check=True)
        rates[name] = json.loads(finished.stdout)["sentences_per_s"]
    return rates


def bench_bar_rounds(checkpoint: str, config: dict, texts, args) -> dict[str, Any]:
    """The throughput bar's measurement: ``args.bar_rounds`` rounds of the limit in a fresh
    process with Ray down, then Ray and the graph started as ``make run`` starts them and driven
    at ``args.clients`` clients, then Ray down again; the limit once more at the end.

    This VM's speed drifts by 10-30% over minutes and now and then a single timing comes out 20%
    low, so one graph run against a limit measured minutes away can land on either side of the
    bar by chance; each round's graph is compared with the limits just before and after it
    (``round_ratios``), and the bar takes the median round.
    """
    from graph.deploy import deploy, local_serve

    limits = [limit_in_fresh_process(checkpoint, args)]
    print(f"bar rounds: limit in a fresh process {limits[-1]}")
    graphs, rows = [], []
    for number in range(1, args.bar_rounds + 1):
        with local_serve(PORT):
            deploy(config)
            measured = asyncio.run(bench_served_backend(f"http://127.0.0.1:{PORT}", texts, args))
        for measured_row in measured:
            measured_row["system"] = "graph HTTP bar round"
            measured_row["load"] += f", round {number}"
        rows += measured
        graphs.append({r["workload"]: r["throughput"] for r in measured})
        limits.append(limit_in_fresh_process(checkpoint, args))
        print(f"bar round {number}: graph {graphs[-1]}, limit after {limits[-1]}")
    return {"limits": limits, "graph": graphs, "rows": rows, "ratios": round_ratios(limits, graphs)}


def round_ratios(
    limits: list[dict[str, float]], graphs: list[dict[str, float]]
) -> dict[str, list[float]]:
    """Each round's graph throughput over the mean of the limits measured just before and just
    after it (``limits`` has one more entry than ``graphs``)."""
    if len(limits) != len(graphs) + 1:
        raise ValueError(f"{len(graphs)} rounds need {len(graphs) + 1} limits, got {len(limits)}")
    return {
        name: [
            graph[name] / ((before[name] + after[name]) / 2)
            for graph, before, after in zip(graphs, limits, limits[1:], strict=False)
        ]
        for name in limits[0]
    }


def measure_backends_inprocess(
    engines: list[dict[str, Any]], translators: dict, args, texts, reference
) -> dict[str, dict[str, Any]]:
    """Each engine's limit, and how many of its outputs differ from torch fp32's."""
    measured = {}
    for engine in engines:
        outputs: dict[str, list[str]] = {}
        rates = measure_limit(translators[engine["label"]], args, texts, outputs)
        differ = {
            name: sum(a != b for a, b in zip(outputs[name], reference[name], strict=True))
            for name in outputs
        }
        measured[engine["label"]] = {"rates": rates, "differ_from_torch_float32": differ}
        print(f"in-process {engine['label']}: {rates}, differ from torch fp32: {differ}")
    return measured


async def bench_served_backend(base_url: str, texts, args, label: str = PRIMARY) -> list[dict]:
    """The graph at ``args.clients`` closed-loop clients on uniform and mixed sentences."""
    rows = []
    async with load.http_sender(base_url) as send:
        for name in ("uniform", "mixed"):
            result = await drive_closed(send, texts[name], args.clients, args)
            print(f"graph HTTP [{label}], {name}: {result.summary()}")
            rows.append(row("graph HTTP", name, result, f"c={args.clients}", engine=label))
    return rows


def measure_length_batching(translator, args, texts: list[str]) -> list[dict[str, Any]]:
    """Mixed lengths, batches of 32: one padded generate each, or cut by a token budget."""
    rows = []
    for budget in (None, 2048, 1024):
        rate, waste = inprocess.length_grouped_sentences_per_s(
            translator, texts[: args.inprocess_count], max_batch_tokens=budget
        )
        rows.append({"max_batch_tokens": budget, "sentences_per_s": rate, "padding_waste": waste})
        print(f"length batching, budget {budget}: {rate:.2f} sentences/s, waste {waste:.1%}")
    return rows


async def drive_closed(send, texts, clients: int, args) -> load.LoadResult:
    return await load.closed_loop(
        send, texts, concurrency=clients, duration_s=args.duration, warmup_s=args.warmup
    )


async def bench_seed(base_url: str, texts: dict[str, list[str]], args) -> list[dict]:
    rows = []
    async with load.http_sender(base_url, tutorial_route=True) as send:
        for name, sentences in texts.items():
            result = await drive_closed(send, sentences, args.clients, args)
            print(f"seed app, {name}: {result.summary()}")
            rows.append(row("seed app", name, result, f"c={args.clients}"))
    return rows


async def bench_lone(base_url: str, model: ModelProcess, texts: list[str], args) -> dict[str, Any]:
    """A lone client, each request paired with the same sentence translated by the model alone
    (``model``, in a fresh process) just before or just after it (alternately, so that neither
    side always runs first): the pair's difference is what the graph adds, and pairs taken
    seconds apart keep this VM's drift (10% and more over minutes) out of it. The graph's
    ``X-Model-Time-Ms`` splits each graph request into the Translator's model call and
    everything outside it (the Serve hops)."""
    inprocess_ms, graph_ms, model_ms, outcomes = [], [], [], []

    def note_model_time(headers) -> None:  # successful responses only, like graph_ms
        model_ms.append(float(headers["X-Model-Time-Ms"]))

    async with load.http_sender(base_url, on_headers=note_model_time) as send:
        # After the 32-client runs the Translator still expects a cohort for its next
        # PEAK_MEMORY_CALLS calls (each waits up to max_wait_s): warm up past those.
        for text in texts[: PEAK_MEMORY_CALLS + 1]:
            await send(text)
        model_ms.clear()
        for pair, text in enumerate(texts[: args.lone_pairs]):
            alone_first = pair % 2 == 0
            if alone_first:
                alone_ms = model.lone_ms(text)
            started = time.perf_counter()
            try:
                await send(text)
            except Exception as error:  # counted in the row's errors; the pair is left out
                outcomes.append(load.Outcome(time.perf_counter() - started, load.error_kind(error)))
                continue
            outcomes.append(load.Outcome(time.perf_counter() - started))
            if not alone_first:
                alone_ms = model.lone_ms(text)
            inprocess_ms.append(alone_ms)
            graph_ms.append(outcomes[-1].latency_s * 1000)
            if len(graph_ms) % 10 == 0:
                print(
                    f"lone pair {len(graph_ms)}: {alone_ms:.0f} ms alone, {graph_ms[-1]:.0f} graph"
                    f" ({model_ms[-1]:.0f} in its model call)"
                )
    result = load.summarize("closed", outcomes, sum(o.latency_s for o in outcomes), concurrency=1)
    print(f"lone: {result.summary()}")
    return {
        "inprocess_ms": inprocess_ms,
        "graph_ms": graph_ms,
        "graph_model_ms": model_ms,
        "row": row("graph HTTP", "uniform", result, "c=1"),
    }


async def bench_graph(
    base_url: str, texts: dict[str, list[str]], model: ModelProcess, args
) -> tuple[list[dict], dict[str, dict[str, float]]]:
    """The graph's rows, and the in-process limit (``model``, in a fresh process) measured just
    before and just after each ``args.clients`` run (Ray up, the graph idle): a second ratio
    from two measurements seconds apart, where the limit measured with Ray down before and after
    the whole run can be 10 minutes away from the graph's, and this VM drifts by 10-30% over
    that."""
    from ray import serve

    rows = []
    adjacent: dict[str, dict[str, float]] = {}

    def limit_now(name: str) -> float:
        return model.sentences_per_s(texts[name][: args.inprocess_count])

    async def at_full_load(send, name: str) -> load.LoadResult:
        before = limit_now(name)
        result = await drive_closed(send, texts[name], args.clients, args)
        after = limit_now(name)
        adjacent[name] = {"before": before, "after": after, "mean": (before + after) / 2}
        print(f"in-process {name} around it: {before:.2f} before, {after:.2f} after")
        return result

    async with load.http_sender(base_url) as send:
        for clients in args.sweep:
            if clients == args.clients:
                result = await at_full_load(send, "uniform")
            else:
                result = await drive_closed(send, texts["uniform"], clients, args)
            print(f"graph HTTP, uniform: {result.summary()}")
            rows.append(row("graph HTTP", "uniform", result, f"c={clients}"))
            if clients == args.clients:
                capacity = result.throughput
        result = await at_full_load(send, "mixed")
        print(f"graph HTTP, mixed: {result.summary()}")
        rows.append(row("graph HTTP", "mixed", result, f"c={args.clients}"))
        # Fractions of what the graph itself just served at args.clients: "0.8x" then means 80%
        # utilisation, whatever this VM's speed is at the moment.
        for fraction in args.open_rates:
            rate = round(capacity * fraction, 1)
            result = await load.open_loop(
                send, texts["uniform"], rate=rate, duration_s=args.duration, warmup_s=args.warmup
            )
            print(f"graph HTTP open loop, uniform: {result.summary()}")
            rows.append(row("graph HTTP open", "uniform", result, f"{rate:g}/s"))
    handle = serve.get_app_handle("translation")
    result = await drive_closed(load.handle_sender(handle), texts["uniform"], args.clients, args)
    print(f"graph handle, uniform: {result.summary()}")
    rows.append(row("graph handle", "uniform", result, f"c={args.clients}"))
    return rows, adjacent


def verdict(results: dict[str, Any], clients: int) -> dict[str, Any]:
    """The issue's bars, computed from this run."""
    rows = results["rows"]

    def throughput(
        system: str, workload_name: str, load_label: str, engine: str = PRIMARY
    ) -> float:
        (match,) = [
            r
            for r in rows
            if (r["system"], r["workload"], r["load"], r.get("engine", PRIMARY))
            == (system, workload_name, load_label, engine)
        ]
        return match["throughput"]

    limit = results["inprocess"]["sentences_per_s"]
    adjacent = results["inprocess"]["adjacent_to_graph"]
    full = f"c={clients}"
    lone = results["inprocess"]["lone_pairs"]
    rounds = results.get("bar_rounds") or {"ratios": {}}
    out = {
        workload_name: {
            # the bar: the median of the bar rounds, each the graph against the limit in a fresh
            # process with Ray down just before and after it (bench_bar_rounds); without rounds,
            # the whole-run figure below
            "graph_vs_limit": statistics.median(rounds["ratios"][workload_name])
            if rounds["ratios"].get(workload_name)
            else throughput("graph HTTP", workload_name, full) / limit[workload_name],
            "graph_vs_limit_rounds": rounds["ratios"].get(workload_name, []),
            # the main run's graph against the limit with Ray down before and after the whole
            # run, minutes away from it
            "graph_vs_limit_whole_run": throughput("graph HTTP", workload_name, full)
            / limit[workload_name],
            # against the limit measured seconds before and after the graph's own run, Ray up:
            # free of the drift over minutes, but with Ray up the model itself runs 10-20% slower
            # on this VM (README "Benchmarks"), so this one is the kinder of the two
            "graph_vs_limit_around_its_run": throughput("graph HTTP", workload_name, full)
            / adjacent[workload_name]["mean"],
            "graph_vs_seed": throughput("graph HTTP", workload_name, full)
            / throughput("seed app", workload_name, full),
        }
        for workload_name in limit
    }
    added, low, high = load.median_ci(
        [graph - alone for graph, alone in zip(lone["graph_ms"], lone["inprocess_ms"], strict=True)]
    )
    out["lone_request_added_ms"] = added
    # One sentence's generate varies by +-100 ms between calls here: the interval says how far
    # the median of this run's pairs can be from the true one.
    out["lone_request_added_ms_ci95"] = [low, high]
    # The bar's figure, split: the replica's model call against the same sentence alone, and
    # the time outside the model (the Serve hops). Medians, so the two need not add up.
    out["lone_request_model_minus_inprocess_ms"] = statistics.median(
        model - alone
        for model, alone in zip(lone["graph_model_ms"], lone["inprocess_ms"], strict=True)
    )
    out["lone_request_outside_model_ms"] = statistics.median(
        graph - model for graph, model in zip(lone["graph_ms"], lone["graph_model_ms"], strict=True)
    )
    out["errors"] = sum(sum(r["errors"].values()) for r in rows)
    out["paired_graph_vs_graph_torch_float32"] = results.get(
        "paired_graph_vs_graph_torch_float32", {}
    )
    out["engines"] = {}
    for label, measured in results.get("engines", {}).items():
        entry: dict[str, Any] = {
            "inprocess_vs_torch_float32": {
                name: rate / limit[name] for name, rate in measured["sentences_per_s"].items()
            },
            "differ_from_torch_float32": measured["differ_from_torch_float32"],
        }
        if measured.get("served"):
            entry.update(
                {
                    name: {
                        "graph": throughput("graph HTTP", name, full, label),
                        "graph_vs_graph_torch_float32": throughput("graph HTTP", name, full, label)
                        / throughput("graph HTTP", name, full),
                        "graph_vs_seed": throughput("graph HTTP", name, full, label)
                        / throughput("seed app", name, full),
                        "graph_vs_own_limit": throughput("graph HTTP", name, full, label)
                        / measured["sentences_per_s"][name],
                    }
                    for name in limit
                }
            )
            entry["errors"] = sum(
                sum(r["errors"].values()) for r in rows if r.get("engine") == label
            )
        out["engines"][label] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the benchmark checkpoint (make bench-model)")
    parser.add_argument("--config", default="local", help="configs/<name>.yaml for the graph")
    parser.add_argument("--device", default="cpu", help="Translator device: cpu or cuda")
    parser.add_argument(
        "--dtype",
        default=None,
        help="torch dtype to serve beside the float32 reference (default: the config's)",
    )
    parser.add_argument("--threads", type=int, default=None, help="default: config's")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--sweep", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument(
        "--lone-pairs",
        type=int,
        default=100,
        help="lone requests, each paired with the model alone",
    )
    parser.add_argument(
        "--open-rates",
        type=float,
        nargs="*",
        default=[0.5, 0.8],
        help="open-loop rates as fractions of the in-process limit",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="measured s per point")
    parser.add_argument("--warmup", type=float, default=4.0, help="warm-up s per point")
    parser.add_argument("--inprocess-count", type=int, default=160)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument(
        "--engines",
        type=backend_list,
        default=backend_list(DEFAULT_BACKENDS),
        help=f"in-process limit and fidelity for each (default {DEFAULT_BACKENDS}); "
        "torch fp32 is always measured, as the reference",
    )
    parser.add_argument(
        "--served-engines",
        type=backend_list,
        default=backend_list(DEFAULT_SERVED),
        help=f"also served through the graph at --clients (default {DEFAULT_SERVED}); '' for none",
    )
    parser.add_argument(
        "--paired-rounds",
        type=int,
        default=2,
        help="torch fp32 and each served engine alternately, uniform at --clients, this many "
        "times (0: none)",
    )
    parser.add_argument(
        "--bar-rounds",
        type=int,
        default=3,
        help="rounds of [limit in a fresh process, Ray down; the graph at --clients] at the end, "
        "for the throughput bar (0: none; the bar then uses the whole run's limit)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default=None, help="file stem (default: latest-<device>)")
    args = parser.parse_args(argv)

    from ray import serve

    from benchmarks.baselines import seed_app
    from graph.deploy import deploy, deployment_of, load_config, local_serve

    config = load_config(args.config, model=str(Path(args.checkpoint).resolve()), port=PORT)
    translator_config = deployment_of(config, "Translator")["user_config"]
    translator_config["device"] = args.device
    args.served_backends = serve_shipped_dtype_beside(
        translator_config, args.dtype, args.served_backends
    )
    args.dtype = "float32"
    args.threads = args.threads or translator_config.get("threads") or 2
    args.realtime = translator_config.get("realtime_model_thread", False)
    if args.clients not in args.sweep:
        args.sweep = sorted({*args.sweep, args.clients})

    texts = {name: workload(name, 512, seed=0) for name in ("uniform", "mixed")}
    started = time.monotonic()
    # This machine's speed drifts by 10% and more over minutes, so the limit is measured before
    # and after the served runs, and lone requests alternate with in-process lone sentences.
    translator = inprocess.load_translator(
        args.checkpoint, threads=args.threads, device=args.device, dtype=args.dtype
    )
    served_labels = {b["label"] for b in args.served_backends}
    others = [b for b in args.engines if b["label"] != PRIMARY]
    others += [b for b in args.served_backends if b["label"] not in {o["label"] for o in others}]
    backend_models = {
        b["label"]: inprocess.load_translator(
            args.checkpoint, threads=args.threads, device=args.device, **b["settings"]
        )
        for b in others
    }
    print(f"in-process limit ({args.threads} threads, batch 32) ...")
    reference: dict[str, list[str]] = {}
    limit_before = measure_limit(translator, args, texts, reference)
    print(f"in-process before: {limit_before}")
    backends_before = measure_backends_inprocess(others, backend_models, args, texts, reference)

    def reference_model() -> ModelProcess:
        """The model alone beside the graph, in a process started just now."""
        return ModelProcess(args.checkpoint, threads=args.threads, device=args.device)

    base_url = f"http://127.0.0.1:{PORT}"
    rows: list[dict] = []
    with local_serve(PORT):  # as `make run` starts Ray: replicas at nice 0
        if not args.skip_seed:
            serve.run(
                seed_app.build(str(Path(args.checkpoint).resolve())),
                name="seed",
                route_prefix="/seed",
            )
            rows += asyncio.run(bench_seed(f"{base_url}/seed", texts, args))
            serve.delete("seed")
        deploy(config)
        with reference_model() as model:
            graph_rows, adjacent_limit = asyncio.run(bench_graph(base_url, texts, model, args))
        rows += graph_rows
        with reference_model() as model:
            lone = asyncio.run(bench_lone(base_url, model, texts["uniform"], args))
        for engine in args.served_backends:
            deploy_backend(config, engine)
            rows += asyncio.run(bench_served_backend(base_url, texts, args, engine["label"]))
        paired = (
            asyncio.run(bench_paired(base_url, config, texts, args)) if args.paired_rounds else []
        )
    limit_after = measure_limit(translator, args, texts)
    print(f"in-process after: {limit_after}")
    backends_after = measure_backends_inprocess(others, backend_models, args, texts, reference)
    length_batching = measure_length_batching(translator, args, texts["mixed"])
    checkpoint = str(Path(args.checkpoint).resolve())
    bar_rounds = bench_bar_rounds(checkpoint, config, texts, args) if args.bar_rounds else None
    limit = {
        "sentences_per_s": {
            name: (limit_before[name] + limit_after[name]) / 2 for name in limit_before
        },
        "before": limit_before,
        "after": limit_after,
        # Ray up, the graph idle, seconds before and after the graph's args.clients runs
        "adjacent_to_graph": adjacent_limit,
        "lone_sentence_ms": statistics.median(lone["inprocess_ms"]),
        "lone_pairs": {k: v for k, v in lone.items() if k != "row"},
    }
    rows.append(lone["row"])
    rows += paired
    if bar_rounds:
        rows += bar_rounds.pop("rows")

    engines = {
        label: {
            "sentences_per_s": {
                name: (before["rates"][name] + backends_after[label]["rates"][name]) / 2
                for name in before["rates"]
            },
            "before": before["rates"],
            "after": backends_after[label]["rates"],
            "differ_from_torch_float32": before["differ_from_torch_float32"],
            "differ_after": backends_after[label]["differ_from_torch_float32"],
            "compared_sentences": args.inprocess_count,
            "served": label in served_labels,
        }
        for label, before in backends_before.items()
    }
    limits = [(PRIMARY, limit["sentences_per_s"])]
    limits += [(label, b["sentences_per_s"]) for label, b in engines.items()]
    rows[:0] = [
        inprocess_row("in-process limit", label, name, "batch 32", value)
        for label, rates in limits
        for name, value in rates.items()
    ] + [
        inprocess_row(
            "in-process limit, Ray up",
            PRIMARY,
            name,
            f"batch 32, around c={args.clients}",
            measured["mean"],
        )
        for name, measured in adjacent_limit.items()
    ]
    if bar_rounds:
        rows[:0] = [
            inprocess_row(
                "in-process limit, fresh process",
                PRIMARY,
                name,
                f"batch 32, median of {len(bar_rounds['limits'])}",
                statistics.median(measured[name] for measured in bar_rounds["limits"]),
            )
            for name in ("uniform", "mixed")
        ]
    results: dict[str, Any] = {
        "title": f"Translation graph vs tutorial app vs model alone ({args.device}, "
        f"t5-small-shaped, 32 tokens/sentence)",
        **provenance(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "graph_config": config,
        "inprocess": limit,
        "engines": engines,
        "paired_graph_vs_graph_torch_float32": paired_ratios(paired),
        "length_batching_mixed": length_batching,
        "bar_rounds": bar_rounds,
        "rows": rows,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if not args.skip_seed:
        results["verdict"] = verdict(results, args.clients)
    results["markdown"] = markdown_table(rows)
    paths = write(results, args.out, args.name or f"latest-{args.device}")
    print(results["markdown"])
    print(results.get("verdict"))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
