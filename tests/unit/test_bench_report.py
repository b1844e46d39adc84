"""Benchmark result files: the machine told apart, the command named, the table's rows."""

import json

from benchmarks.report import cpu_identity, markdown, markdown_table, write

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 bmi2

processor\t: 1
model name\t: Something Else
flags\t\t: avx512f
"""

ZEN4 = """processor\t: 0
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: avx2 avx512f avx512_vnni avx512_bf16 fma
"""


def test_two_cpus_behind_the_same_name_are_told_apart():
    zen3, zen4 = cpu_identity(ZEN3), cpu_identity(ZEN4)
    assert zen3["cpu"] == zen4["cpu"] == "AMD EPYC"
    assert (zen3["cpu_family"], zen3["cpu_model"]) == ("25", "1")
    assert (zen4["cpu_family"], zen4["cpu_model"]) == ("25", "17")
    # only the first processor's block counts; flags in the order VECTOR_FLAGS names them
    assert zen3["cpu_vector_flags"] == ["avx2"]
    assert zen4["cpu_vector_flags"] == ["avx2", "avx512f", "avx512_bf16", "avx512_vnni"]


def test_a_cpuinfo_without_the_fields_says_unknown():
    assert cpu_identity("") == {
        "cpu": "unknown",
        "cpu_family": None,
        "cpu_model": None,
        "cpu_vector_flags": [],
    }


def result_rows() -> list[dict]:
    def row(system, engine, clients, throughput, p50, **extra):
        return {
            "system": system,
            "engine": engine,
            "workload": "uniform",
            "concurrency": clients,
            "throughput": throughput,
            "p50_ms": p50,
            "p95_ms": None if p50 is None else p50 * 1.1,
            "errors": extra.pop("errors", {}),
            **extra,
        }

    return [
        row("seed app", "torch float32", 32, 1.5, 20000.0),
        row("model alone", "torch float32", 32, 10.0, 3200.0),
        row(
            "graph",
            "torch float32",
            32,
            9.0,
            3500.0,
            vs_model_alone=0.9,
            added_p50_ms=300.0,
            vs_seed=6.0,
            errors={"http_503": 2},
            error_examples={"http_503": "busy"},
        ),
        row("model alone", "ctranslate2 int8", 1, 4.0, None),
    ]


def results() -> dict:
    return {
        "title": "a title",
        "command": 'make bench BENCH_ARGS="--rounds 2"',
        "date": "2026-12-03 10:00 UTC",
        "git_sha": "0123456789abcdef",
        "git_dirty": True,
        "versions": {"ray": "2.60.0", "ctranslate2": None, "python": "3.11.7"},
        "machine": {
            **cpu_identity(ZEN4),
            "cores": 2,
            "platform": "Linux",
            "gpu": None,
        },
        "elapsed_s": 412.3,
        "rows": result_rows(),
    }


def test_the_table_has_a_row_per_measurement_with_its_ratios():
    table = markdown_table(result_rows())
    lines = table.splitlines()
    assert lines[0].startswith("| system | engine | workload | clients | req/s |")
    assert len(lines) == 2 + 4
    assert lines[4] == (
        "| graph | torch float32 | uniform | 32 | 9.00 | 3500 | 3850 | 2 | 0.90x | 300 | 6.0x |"
    )
    assert (
        lines[5]
        == "| model alone | ctranslate2 int8 | uniform | 1 | 4.00 | - | - | 0 | - | - | - |"
    )


def test_the_markdown_names_the_command_the_commit_and_the_machine():
    text = markdown(results())
    assert 'Made by `make bench BENCH_ARGS="--rounds 2"`' in text
    assert "0123456789abcdef (with uncommitted changes)" in text
    assert "AMD EPYC (family 25, model 17; avx2, avx512f, avx512_bf16, avx512_vnni)" in text
    assert '- graph, torch float32, uniform, 32 clients: 2 http_503 ("busy")' in text
    assert "ray 2.60.0" in text and "ctranslate2" not in text.split("versions:")[1].split("\n")[0]


def test_write_makes_the_three_files(tmp_path):
    paths = write(results(), tmp_path / "out", "latest-cpu")
    assert sorted(p.name for p in paths.values()) == [
        "latest-cpu.json",
        "latest-cpu.md",
        "latest-cpu.png",
    ]
    assert json.loads(paths["json"].read_text())["command"] == results()["command"]
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
