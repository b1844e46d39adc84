"""benchmarks/run.py's pure parts: what a run serves, in which order, and how rows combine."""

import ast
from pathlib import Path

import pytest

from benchmarks import mixed_pairs
from benchmarks.run import (
    FULL,
    PORT,
    QUICK,
    SEED_WARMUP,
    engine_label,
    median_row,
    parse_options,
    results,
    run_mixed_pairs,
    seed_config,
    session_order,
    session_ratios,
    table,
)
from graph.deploy import deployment_of

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def measured(system, engine, workload, clients, throughput, p50, errors=None) -> dict:
    return {
        "system": system,
        "engine": engine,
        "workload": workload,
        "concurrency": clients,
        "throughput": throughput,
        "p50_ms": p50,
        "p95_ms": p50 * 1.2,
        "issued": 10,
        "completed": 10 - sum((errors or {}).values()),
        "errors": errors or {},
    }


def session(engine, graph, before, after, seed=()) -> dict:
    """One session at one point (uniform, 32 clients): (throughput, p50) of each system."""

    def rows(system, values):
        return [measured(system, engine, "uniform", 32, *values)]

    return {
        "engine": engine,
        "graph": rows("graph", graph),
        "model_alone_before": rows("model alone", before),
        "model_alone_after": rows("model alone", after),
        "seed": [measured("seed app", "torch float32", "uniform", 32, *s) for s in seed],
    }


def test_the_default_run_serves_each_engines_shipped_config():
    options = parse_options(["build/bench-t5-small"])
    assert [(t.config_name, t.label) for t in options.targets] == [
        ("local", "torch float32"),
        ("cpu-fast", "ctranslate2 int8"),
    ]
    checkpoint = str(Path("build/bench-t5-small").resolve())
    assert {t.translator["user_config"]["model"] for t in options.targets} == {checkpoint}
    assert (options.clients, options.rounds, options.counts) == ([1, 32], 1, FULL)
    assert options.stem == "latest-cpu"
    # the model alone's calls are capped where the Translator caps its own
    assert [t.max_call for t in options.targets] == [32, 32]


def test_cuda_serves_the_gpu_config_and_quick_writes_apart(monkeypatch):
    monkeypatch.delenv("BENCH_COMMAND", raising=False)
    options = parse_options(["ckpt", "--device", "cuda", "--quick"])
    assert [(t.config_name, t.label, t.max_call) for t in options.targets] == [
        ("gpu", "torch float16", 64)
    ]
    assert options.counts == QUICK
    assert options.stem == "quick-cuda"
    assert options.command == "python -m benchmarks.run ckpt --device cuda --quick"


def test_the_command_make_passes_is_the_one_recorded(monkeypatch):
    monkeypatch.setenv("BENCH_COMMAND", 'make bench BENCH_ARGS="--rounds 2"')
    options = parse_options(["ckpt", "--rounds", "2"])
    assert options.command == 'make bench BENCH_ARGS="--rounds 2"'
    assert options.rounds == 2


def test_the_seed_app_deploys_by_import_path_beside_nothing_else():
    (target, _) = parse_options(["ckpt"]).targets
    config = seed_config(target.config, "/abs/ckpt")
    (app,) = config["applications"]
    assert app == {
        "name": "seed",
        "route_prefix": "/seed",
        "import_path": "benchmarks.baselines.seed_app:build",
        "args": {"model": "/abs/ckpt"},
    }
    assert config["http_options"] == target.config["http_options"]
    assert target.config["applications"][0]["name"] == "translation"  # the graph's is untouched


def test_engine_labels():
    assert engine_label({"engine": "torch", "dtype": "bfloat16"}) == "torch bfloat16"
    assert engine_label({"engine": "ctranslate2", "compute_type": "int8"}) == "ctranslate2 int8"
    assert engine_label({}) == "torch float32"


def test_sessions_alternate_their_order_round_by_round():
    assert session_order(2, 1) == [0, 1]
    assert session_order(2, 3) == [0, 1, 1, 0, 0, 1]
    assert session_order(1, 2) == [0, 0]


def test_request_counts_per_point():
    assert (FULL.timed(1), FULL.warmup(1)) == (FULL.lone, FULL.lone_warmup)
    assert FULL.timed(32) == 32 * FULL.cohorts
    assert FULL.warmup(32) == 32 * FULL.warmup_cohorts
    assert FULL.timed(32, seed=True) == 32 * FULL.seed_cohorts
    assert FULL.timed(1, seed=True) == FULL.seed_lone
    assert FULL.warmup(32, seed=True) == FULL.warmup(1, seed=True) == SEED_WARMUP
    assert QUICK.timed(32) < FULL.timed(32)


def test_a_median_row_sums_requests_and_errors():
    rows = [
        measured("graph", "torch float32", "mixed", 32, 10.0, 100.0, {"http_503": 1}),
        measured("graph", "torch float32", "mixed", 32, 14.0, 300.0, {"http_503": 2, "x": 1}),
    ]
    merged = median_row(rows)
    assert (merged["throughput"], merged["p50_ms"]) == (12.0, 200.0)
    assert merged["errors"] == {"http_503": 3, "x": 1}
    assert merged["error_examples"] == {}
    assert (merged["issued"], merged["measurements"]) == (20, 2)
    nothing = median_row([measured("graph", "e", "mixed", 1, 0.0, 1.0) | {"p50_ms": None}])
    assert nothing["p50_ms"] is None


def test_a_session_is_compared_with_the_model_alone_just_before_and_after_it():
    ratios = session_ratios(session("torch float32", (9.0, 3600), (10.0, 3200), (8.0, 3400)))
    (only,) = ratios.values()
    assert only["vs_model_alone"] == pytest.approx(9.0 / 9.0)
    assert only["added_p50_ms"] == pytest.approx(3600 - 3300)


def test_the_table_orders_rows_and_takes_the_median_of_session_ratios():
    sessions = [
        session("torch float32", (9.0, 3600), (10.0, 3000), (8.0, 3000), seed=[(1.5, 20000)]),
        session("ctranslate2 int8", (20.0, 1600), (20.0, 1500), (20.0, 1500)),
        session("ctranslate2 int8", (30.0, 1100), (20.0, 1500), (20.0, 1500)),
        session("torch float32", (6.0, 5000), (10.0, 3000), (10.0, 3000)),
    ]
    rows = table(sessions, ["torch float32", "ctranslate2 int8"])
    assert [(r["system"], r["engine"]) for r in rows] == [
        ("seed app", "torch float32"),
        ("model alone", "torch float32"),
        ("graph", "torch float32"),
        ("model alone", "ctranslate2 int8"),
        ("graph", "ctranslate2 int8"),
    ]
    torch_graph, ct2_graph = rows[2], rows[4]
    assert torch_graph["vs_model_alone_sessions"] == pytest.approx([1.0, 0.6])
    assert torch_graph["vs_model_alone"] == pytest.approx(0.8)
    assert torch_graph["throughput"] == pytest.approx(7.5)
    assert torch_graph["vs_seed"] == pytest.approx(7.5 / 1.5)
    assert ct2_graph["vs_model_alone"] == pytest.approx(1.25)
    assert ct2_graph["added_p50_ms"] == pytest.approx((100 - 400) / 2)
    assert rows[1]["throughput"] == pytest.approx(9.5)  # the median of 9 and 10


def test_the_table_without_a_seed_app_leaves_its_ratio_out():
    rows = table([session("torch float32", (9.0, 1), (9.0, 1), (9.0, 1))], ["torch float32"])
    assert [r["system"] for r in rows] == ["model alone", "graph"]
    assert "vs_seed" not in rows[1]


def imported_roots(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_seed_app_imports_the_ml_libraries_in_benchmarks():
    # everything else goes through deployments.engines, as the Translator does
    offenders = {
        str(path.relative_to(BENCHMARKS)): sorted(found)
        for path in BENCHMARKS.rglob("*.py")
        if path.name != "seed_app.py"
        and (found := imported_roots(path) & {"torch", "transformers", "ctranslate2"})
    }
    assert offenders == {}
    assert "torch" in imported_roots(BENCHMARKS / "baselines" / "seed_app.py")


def test_the_mixed_pair_line_serves_local_yaml_as_shipped_after_the_engines(monkeypatch):
    monkeypatch.delenv("BENCH_COMMAND", raising=False)
    root = Path(mixed_pairs.__file__).resolve().parent.parent
    options = parse_options(["ckpt"])
    assert options.pairs_config is not None
    assert mixed_pairs.checkpoints(options.pairs_config) == [
        str(root / "build" / name)
        for name in ("phrasebook-t5", "phrasebook-marian", "phrasebook-m2m100")
    ]
    assert options.pairs_config["http_options"]["port"] == PORT
    assert options.pair_counts == mixed_pairs.FULL
    # the engines' rows still serve their first model alone
    assert all("models" not in t.translator["user_config"] for t in options.targets)
    assert parse_options(["ckpt", "--device", "cuda"]).pairs_config is None
    assert parse_options(["ckpt", "--no-mixed-pairs"]).pairs_config is None


def test_the_mixed_pair_line_alone_writes_apart(monkeypatch):
    monkeypatch.delenv("BENCH_COMMAND", raising=False)
    options = parse_options(["ckpt", "--mixed-pairs-only", "--quick"])
    assert options.targets == []
    assert options.pair_counts == mixed_pairs.QUICK
    assert options.stem == "quick-mixed-pairs-cpu"
    with pytest.raises(SystemExit):
        parse_options(["ckpt", "--mixed-pairs-only", "--no-mixed-pairs"])


def test_the_mixed_pair_line_is_the_tables_last(monkeypatch):
    options = parse_options(["ckpt"])
    sessions = [session("torch float32", (9.0, 1), (9.0, 1), (9.0, 1))]
    point = {
        "round": 0,
        "concurrency": 8,
        "throughput": 5.0,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
        "p99_ms": 30.0,
        "issued": 8,
        "completed": 8,
        "errors": {},
        "evictions_before": 0,
        "evictions_after": 4,
    }
    pairs = {
        "engine": "torch float32",
        "points": [point | {"point": mixed_pairs.MIXED}, point | {"point": mixed_pairs.SINGLE}],
    }
    monkeypatch.setattr("benchmarks.run.provenance", dict)
    measured = results(options, sessions, 1.0, pairs)
    assert [r["system"] for r in measured["rows"]] == ["model alone", "graph", "graph, 3 models"]
    assert measured["rows"][-1]["vs_single_pair"] == 1.0
    assert measured["mixed_pairs"] is pairs
    assert measured["parameters"]["mixed_pairs"]["pairs"][-1] == "fr-de"
    skipped = results(options, sessions, 1.0, {"skipped": "no checkpoint"})
    assert len(skipped["rows"]) == 2


def test_a_missing_checkpoint_skips_the_line_but_not_the_run(tmp_path):
    options = parse_options(["ckpt"])
    translator = deployment_of(options.pairs_config, "Translator")["user_config"]
    for model in translator["models"]:
        model["model"] = str(tmp_path / "absent" / model["id"])  # never built
    assert "no checkpoint at" in run_mixed_pairs(options)["skipped"]
    options.targets = []
    with pytest.raises(SystemExit, match="mixed pairs: no checkpoint"):
        run_mixed_pairs(options)
