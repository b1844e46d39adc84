"""`make bench`: the graph on each engine against its model alone and against the seed app.

For each engine's shipped config (cpu: configs/local.yaml, torch float32, and
configs/cpu-fast.yaml, CTranslate2 int8; cuda: configs/gpu.yaml), at 1 and 32 closed-loop
clients, on uniform and on mixed-length sentences (benchmarks/workloads.py):

- model alone: the Translator's engine and BatchRunner built from the same user_config, in a
  process of its own (benchmarks/model_process.py), with Ray down, just before and just after
  the Ray session that serves that engine; the reference is the mean of the two;
- graph: Ray started as `make run` starts it and the config deployed with only the checkpoint
  changed, driven over HTTP (benchmarks/load.py);
- seed app: the tutorial's app (benchmarks/baselines/seed_app.py), in the first session;
- mixed pairs, last, in a session of its own: configs/local.yaml as shipped (three models),
  clients cycling language pairs against the same clients on en -> fr alone
  (benchmarks/mixed_pairs.py). One line of the table.

With ``--rounds N`` each engine gets N sessions, in alternating order. Results under
benchmarks/results/: JSON, a Markdown table and a PNG plot, each naming the command that made
them (docs/benchmarks.md).

    python -m benchmarks.run build/bench-t5-small          # what `make bench` runs
    python -m benchmarks.run build/bench-t5-small --quick  # every step, few requests
    python -m benchmarks.run build/bench-t5-small --mixed-pairs-only --quick
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import load, mixed_pairs
from benchmarks.model_process import ModelProcess
from benchmarks.report import provenance, write
from benchmarks.workloads import workload
from deployments.core.settings import TranslatorSettings

# Not 8000 (make run) nor 8123-8124 (the integration tests' Serve and metrics ports).
PORT = int(os.environ.get("BENCH_SERVE_PORT", "8210"))
# HAProxy's stats and metrics ports are fixed (8404, 9101) unless set: another HAProxy-fronted
# Serve on this machine (make run, the tests) would make ours fail to start.
HAPROXY_PORTS = {
    "RAY_SERVE_HAPROXY_STATS_PORT": str(PORT + 1),
    "RAY_SERVE_HAPROXY_METRICS_PORT": str(PORT + 2),
}
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_CONFIGS = {"cpu": ("local", "cpu-fast"), "cuda": ("gpu",)}
WORKLOADS = ("uniform", "mixed")
TEXTS_PER_WORKLOAD = 512
SEED_APP = "seed"
SEED_ENGINE = "torch float32"  # the tutorial's pipeline: fp32 generate, one text per call
# Both seed replicas pay for their first generate before anything is timed.
SEED_WARMUP = 4


@dataclass(frozen=True)
class Counts:
    """Requests per point. At c > 1 clients, ``cohorts`` x c timed after ``warmup_cohorts`` x c
    untimed: a cohort is one model call's worth once the Translator merges the clients' requests.
    At 1 client, ``lone`` timed after ``lone_warmup``."""

    lone: int = 12
    lone_warmup: int = 2
    cohorts: int = 3
    warmup_cohorts: int = 1
    # The seed app serves a fraction of the graph's rate: fewer requests keep its points short,
    # and its ratio to the graph is large enough not to need more.
    seed_lone: int = 8
    seed_cohorts: int = 1

    def timed(self, clients: int, *, seed: bool = False) -> int:
        if clients == 1:
            return self.seed_lone if seed else self.lone
        return clients * (self.seed_cohorts if seed else self.cohorts)

    def warmup(self, clients: int, *, seed: bool = False) -> int:
        if seed:
            return SEED_WARMUP
        return self.lone_warmup if clients == 1 else clients * self.warmup_cohorts


FULL = Counts()
QUICK = Counts(lone=3, lone_warmup=1, cohorts=1, warmup_cohorts=1, seed_lone=2, seed_cohorts=1)
_STARTED = time.monotonic()


def log(message: str) -> None:
    """A progress line with the seconds since start: the log then says where a run's time went."""
    print(f"[{time.monotonic() - _STARTED:6.0f} s] {message}", flush=True)


@dataclass(frozen=True)
class Target:
    """One engine's graph: a shipped config with only the checkpoint and the port changed."""

    config_name: str
    config: dict[str, Any]

    @property
    def translator(self) -> dict[str, Any]:
        from graph.deploy import deployment_of

        return deployment_of(self.config, "Translator")

    @property
    def label(self) -> str:
        return engine_label(self.translator["user_config"])

    @property
    def max_call(self) -> int:
        """The most texts the Translator puts in one model call (batching.max_batch_size)."""
        settings = TranslatorSettings.model_validate(self.translator["user_config"])
        return settings.batching.max_batch_size


@dataclass
class Options:
    checkpoint: str
    device: str
    targets: list[Target]
    clients: list[int]
    rounds: int
    counts: Counts
    command: str
    out: Path
    stem: str
    texts: dict[str, list[str]] = field(default_factory=dict)
    # configs/local.yaml as shipped, for the mixed-pair line; None: that line is not measured.
    pairs_config: dict[str, Any] | None = None
    pair_counts: mixed_pairs.PairCounts = mixed_pairs.FULL


def without_memory(config: dict[str, Any]) -> dict[str, Any]:
    """The config with the Translator's translation memory off: the workloads repeat their
    sentences, and the model alone, the reference, has no memory."""
    from graph.deploy import change_translator, deployment_of

    change_translator(
        deployment_of(config, "Translator")["user_config"], translation_memory={"max_entries": 0}
    )
    return config


def engine_label(user_config: dict[str, Any]) -> str:
    """``torch float32``, ``ctranslate2 int8``: the engine and its weight type."""
    model = TranslatorSettings.model_validate(user_config).models[0]
    return f"{model.engine} {model.compute_type or model.dtype}"


def session_order(targets: int, rounds: int) -> list[int]:
    """Which target each Ray session serves: every target once a round, every other round in
    reverse, so that neither engine is always measured first."""
    forward = list(range(targets))
    return [i for r in range(rounds) for i in (forward if r % 2 == 0 else forward[::-1])]


def row(system: str, engine: str, workload_name: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"system": system, "engine": engine, "workload": workload_name, **result}


def measure_model_alone(model: ModelProcess, target: Target, options: Options) -> list[dict]:
    """The model alone at each point, in the child process; Ray is down while it runs. Its calls
    are as large as the Translator's would be: all the clients' texts, up to its largest call."""
    rows = []
    for clients in options.clients:
        for name in WORKLOADS:
            answer = model.drive(
                options.texts[name],
                clients=min(clients, target.max_call),
                requests=options.counts.timed(clients),
                warmup=options.counts.warmup(clients),
            )
            result = load.LoadResult(**answer["result"] | {"concurrency": clients})
            log(f"model alone [{target.label}] {name}: {result.summary()}")
            rows.append(row("model alone", target.label, name, result.to_dict()))
    return rows


async def drive_http(
    base_url: str, system: str, label: str, options: Options, *, seed: bool = False
) -> list[dict]:
    """Closed-loop clients at each point; 1 client first, so that a lone request never waits
    for the cohort a Translator that has just served 32 clients still expects."""
    rows = []
    async with load.http_sender(base_url, tutorial_route=seed) as send:
        for clients in options.clients:
            for name in WORKLOADS:
                result = await load.closed_loop(
                    send,
                    options.texts[name],
                    concurrency=clients,
                    requests=options.counts.timed(clients, seed=seed),
                    warmup_requests=options.counts.warmup(clients, seed=seed),
                )
                log(f"{system} [{label}] {name}: {result.summary()}")
                rows.append(row(system, label, name, result.to_dict()))
    return rows


def seed_config(graph_config: dict[str, Any], checkpoint: str) -> dict[str, Any]:
    """The graph's Serve config with its application swapped for the tutorial's app, deployed
    by import path as `serve deploy` would deploy it."""
    config = copy.deepcopy(graph_config)
    config["applications"] = [
        {
            "name": SEED_APP,
            "route_prefix": f"/{SEED_APP}",
            "import_path": "benchmarks.baselines.seed_app:build",
            "args": {"model": checkpoint},
        }
    ]
    return config


def measure_seed(base_url: str, target: Target, options: Options) -> list[dict]:
    """The tutorial's app, deployed alone and deleted after, so its replicas never run beside
    the graph."""
    from ray import serve

    from graph.deploy import deploy

    checkpoint = str(Path(options.checkpoint).resolve())
    deploy(seed_config(target.config, checkpoint), wait_for=(SEED_APP,))
    log("seed app deployed")
    try:
        return asyncio.run(
            drive_http(f"{base_url}/{SEED_APP}", "seed app", SEED_ENGINE, options, seed=True)
        )
    finally:
        serve.delete(SEED_APP)


def haproxy_ports() -> None:
    for name, value in HAPROXY_PORTS.items():
        os.environ.setdefault(name, value)  # read by the Ray processes local_serve starts


def serve_session(target: Target, options: Options, *, with_seed: bool) -> dict[str, list]:
    """One Ray session, started as `make run` starts it: the seed app first if asked, then the
    target's config deployed and driven. Ray is down again on return."""
    from graph.deploy import deploy, local_serve

    base_url = f"http://127.0.0.1:{PORT}"
    haproxy_ports()
    with local_serve(PORT):
        log("Ray and Serve up")
        seed = measure_seed(base_url, target, options) if with_seed else []
        deploy(target.config)
        log(f"graph deployed: {target.config_name}")
        graph = asyncio.run(drive_http(base_url, "graph", target.label, options))
    log("Ray down")
    return {"seed": seed, "graph": graph}


def run_sessions(options: Options) -> list[dict[str, Any]]:
    """Each session bracketed by its engine's model alone, measured just before and just after
    it; when the same engine comes next, its measurement after is the next one's before."""
    order = session_order(len(options.targets), options.rounds)
    sessions: list[dict[str, Any]] = []
    started = time.monotonic()
    with ExitStack() as stack:
        # One child per engine, loaded before Ray starts and idle while Ray is up.
        models = {
            i: stack.enter_context(ModelProcess(options.targets[i].translator))
            for i in dict.fromkeys(order)
        }
        log(f"model alone loaded: {', '.join(t.label for t in options.targets)}")
        last: tuple[int, list[dict]] | None = None
        for number, index in enumerate(order):
            target = options.targets[index]
            log(f"session {number + 1}/{len(order)}: {target.config_name} [{target.label}]")
            phase = time.monotonic()
            if last is not None and last[0] == index:
                before = last[1]
            else:
                before = measure_model_alone(models[index], target, options)
            served = serve_session(target, options, with_seed=number == 0)
            after = measure_model_alone(models[index], target, options)
            last = (index, after)
            sessions.append(
                {
                    "config": target.config_name,
                    "engine": target.label,
                    "model_alone_before": before,
                    "model_alone_after": after,
                    **served,
                    "seconds": round(time.monotonic() - phase, 1),
                    "ended_s": round(time.monotonic() - started, 1),
                }
            )
    return sessions


def run_mixed_pairs(options: Options) -> dict[str, Any] | None:
    """The mixed-pair line's session, after the engines' (benchmarks/mixed_pairs.py). Without
    its checkpoints a whole `make bench` still runs, the line skipped and saying why."""
    if options.pairs_config is None:
        return None
    missing = [c for c in mixed_pairs.checkpoints(options.pairs_config) if not Path(c).is_dir()]
    if missing:
        reason = f"no checkpoint at {', '.join(missing)} (make checkpoint builds them)"
        if not options.targets:
            raise SystemExit(f"mixed pairs: {reason}")
        log(f"mixed pairs skipped: {reason}")
        return {"skipped": reason}
    log(f"session: mixed pairs on {mixed_pairs.CONFIG_NAME} as shipped")
    phase = time.monotonic()
    haproxy_ports()
    measured = mixed_pairs.session(
        options.pairs_config, PORT, options.pair_counts, 2 * options.rounds, log
    )
    return measured | {"seconds": round(time.monotonic() - phase, 1)}


def point(r: dict[str, Any]) -> tuple[str, int]:
    return r["workload"], r["concurrency"]


def median_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several measurements of one point as one row: medians of the rates and latencies (of
    two, their mean), requests and errors summed."""
    errors, examples = load.merged_errors(rows)

    def median(key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return statistics.median(values) if values else None

    first = rows[0]
    return {
        "system": first["system"],
        "engine": first["engine"],
        "workload": first["workload"],
        "concurrency": first["concurrency"],
        "throughput": median("throughput"),
        "p50_ms": median("p50_ms"),
        "p95_ms": median("p95_ms"),
        "issued": sum(r["issued"] for r in rows),
        "completed": sum(r["completed"] for r in rows),
        "errors": errors,
        "error_examples": examples,
        "measurements": len(rows),
    }


def session_ratios(session: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """Each graph point of a session against the mean of the model alone just before and just
    after that session: throughput ratio, and what the graph adds to the median latency."""
    before = {point(r): r for r in session["model_alone_before"]}
    after = {point(r): r for r in session["model_alone_after"]}
    out = {}
    for graph in session["graph"]:
        key = point(graph)
        reference = median_row([before[key], after[key]])
        added = None
        if graph["p50_ms"] is not None and reference["p50_ms"] is not None:
            added = graph["p50_ms"] - reference["p50_ms"]
        out[key] = {
            "reference": reference,
            "vs_model_alone": graph["throughput"] / reference["throughput"],
            "added_p50_ms": added,
        }
    return out


def table(sessions: list[dict[str, Any]], labels: Sequence[str]) -> list[dict[str, Any]]:
    """The results table: per workload and client count, the seed app, then each engine's model
    alone and graph. Over several sessions, medians; a graph row's ratio to its model alone is
    the median of its sessions' ratios, each against its own bracketing references."""
    seeds: dict[tuple, list] = {}
    alone: dict[tuple, list] = {}
    graphs: dict[tuple, list] = {}
    ratios: dict[tuple, list] = {}
    for session in sessions:
        for r in session["seed"]:
            seeds.setdefault(point(r), []).append(r)
        measured = session_ratios(session)
        for r in session["graph"]:
            key = (session["engine"], *point(r))
            graphs.setdefault(key, []).append(r)
            alone.setdefault(key, []).append(measured[point(r)]["reference"])
            ratios.setdefault(key, []).append(measured[point(r)])
    points = sorted({key[1:] for key in graphs}, key=lambda p: (WORKLOADS.index(p[0]), p[1]))
    rows = []
    for key in points:
        seed = median_row(seeds[key]) if key in seeds else None
        if seed:
            rows.append(seed)
        for label in labels:
            if (label, *key) not in graphs:
                continue
            measured = ratios[(label, *key)]
            graph = median_row(graphs[(label, *key)])
            graph["vs_model_alone"] = statistics.median(m["vs_model_alone"] for m in measured)
            graph["vs_model_alone_sessions"] = [m["vs_model_alone"] for m in measured]
            added = [m["added_p50_ms"] for m in measured if m["added_p50_ms"] is not None]
            graph["added_p50_ms"] = statistics.median(added) if added else None
            if seed and seed["throughput"]:
                graph["vs_seed"] = graph["throughput"] / seed["throughput"]
            rows += [median_row(alone[(label, *key)]), graph]
    return rows


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="the benchmark checkpoint (make bench-model)")
    parser.add_argument("--device", choices=sorted(DEFAULT_CONFIGS), default="cpu")
    parser.add_argument(
        "--configs",
        default=None,
        help="configs/<name>.yaml to serve, comma-separated (default: local,cpu-fast on cpu, "
        "gpu on cuda)",
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--rounds", type=int, default=1, help="Ray sessions per engine")
    parser.add_argument("--quick", action="store_true", help="a few requests per point")
    pairs = parser.add_mutually_exclusive_group()
    pairs.add_argument(
        "--mixed-pairs-only",
        action="store_true",
        help="only the mixed-pair line, on configs/local.yaml as shipped (on cpu it runs by "
        "default after the engines)",
    )
    pairs.add_argument("--no-mixed-pairs", action="store_true", help="without the mixed-pair line")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default=None, help="file stem (default latest-<device>)")
    args = parser.parse_args(argv)
    from graph.deploy import load_config

    names = args.configs.split(",") if args.configs else DEFAULT_CONFIGS[args.device]
    if args.mixed_pairs_only:
        names = ()
    model = str(Path(args.checkpoint).resolve())
    argv = sys.argv[1:] if argv is None else argv
    # The line measures local.yaml, a CPU config: a --device cuda run leaves it out unless asked.
    with_pairs = args.mixed_pairs_only or (args.device == "cpu" and not args.no_mixed_pairs)
    pairs_config = without_memory(load_config(mixed_pairs.CONFIG_NAME, port=PORT))
    only = "mixed-pairs-" if args.mixed_pairs_only else ""
    return Options(
        checkpoint=args.checkpoint,
        device=args.device,
        targets=[
            Target(
                name,
                without_memory(load_config(name, model=model, port=PORT, first_model_only=True)),
            )
            for name in names
        ],
        clients=sorted(set(args.clients)),
        rounds=args.rounds,
        counts=QUICK if args.quick else FULL,
        # `make bench` passes its own command line; run directly, this one
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "benchmarks.run", *argv]),
        out=args.out,
        stem=args.name or f"{'quick' if args.quick else 'latest'}-{only}{args.device}",
        pairs_config=mixed_pairs.with_absolute_checkpoints(pairs_config) if with_pairs else None,
        pair_counts=mixed_pairs.QUICK if args.quick else mixed_pairs.FULL,
    )


def results(
    options: Options,
    sessions: list[dict],
    elapsed_s: float,
    pairs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    labels = [t.label for t in options.targets]
    rows = table(sessions, labels)
    if pairs is not None and "points" in pairs:
        rows.append(mixed_pairs.table_row(pairs))
    title = (
        f"make bench: the graph against the model alone and the seed app "
        f"({options.device}, t5-small-shaped, 32 new tokens a sentence)"
    )
    if not options.targets:
        title = "make bench: mixed pairs on configs/local.yaml's three phrasebook models"
    return {
        "title": title,
        "command": options.command,
        **provenance(),
        "parameters": {
            "checkpoint": options.checkpoint,
            "configs": [t.config_name for t in options.targets],
            "clients": options.clients,
            "rounds": options.rounds,
            "counts": vars(options.counts),
            "texts_per_workload": TEXTS_PER_WORKLOAD,
            "mixed_pairs": pair_parameters(options),
        },
        "translator_user_configs": {t.label: t.translator["user_config"] for t in options.targets},
        "rows": rows,
        "sessions": sessions,
        "mixed_pairs": pairs,
        "elapsed_s": round(elapsed_s, 1),
    }


def pair_parameters(options: Options) -> dict[str, Any] | None:
    if options.pairs_config is None:
        return None
    from graph.deploy import deployment_of

    return {
        "config": mixed_pairs.CONFIG_NAME,
        "pairs": ["-".join(pair) for pair in mixed_pairs.PAIRS],
        "single_pair": "-".join(mixed_pairs.SINGLE_PAIR),
        "clients": mixed_pairs.CLIENTS,
        "counts": vars(options.pair_counts),
        "rounds": 2 * options.rounds,
        "translator_user_config": deployment_of(options.pairs_config, "Translator")["user_config"],
    }


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    options.texts = {name: workload(name, TEXTS_PER_WORKLOAD, seed=0) for name in WORKLOADS}
    started = time.monotonic()
    sessions = run_sessions(options) if options.targets else []
    pairs = run_mixed_pairs(options)
    measured = results(options, sessions, time.monotonic() - started, pairs)
    written = write(measured, options.out, options.stem)
    print(written["markdown"].read_text())
    print(f"wrote {', '.join(str(p) for p in written.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
