"""Benchmark results as files: JSON (with provenance), a Markdown table, a PNG plot.

Each names the command that made it, the git commit and the machine, so that a figure found
later can be traced to what produced it and compared only with runs on the same CPU.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PACKAGES = ("ray", "torch", "transformers", "ctranslate2", "fastapi")
# The vector extensions that decide which kernels torch and CTranslate2 run on a CPU.
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16")


def provenance() -> dict[str, Any]:
    """Which code, which libraries, which machine, when."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    try:
        cpu = cpu_identity(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu = cpu_identity("")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_sha": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "versions": {name: package_version(name) for name in PACKAGES}
        | {"python": platform.python_version()},
        "machine": {
            **cpu,
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            # a GPU run's numbers are the card's: they are published labelled with it
            "gpu": gpu_name(),
        },
    }


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name, without importing torch into the benchmark's process."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        names = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return None
    return names[0].strip() if names else None


def cpu_identity(cpuinfo: str) -> dict[str, Any]:
    """The first CPU of ``/proc/cpuinfo``: its name, family and model, and vector extensions.

    Machines of the same kind here have been different CPUs behind the same name ("AMD EPYC"):
    one with AVX-512 and bfloat16, one with AVX2 only, on which the engines pick other kernels.
    Results from two runs compare only on the same CPU.
    """
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor's block ends here
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {
        "cpu": fields.get("model name", "unknown"),
        "cpu_family": fields.get("cpu family"),
        "cpu_model": fields.get("model"),
        "cpu_vector_flags": [flag for flag in VECTOR_FLAGS if flag in flags],
    }


def machine_line(results: dict[str, Any]) -> str:
    machine = results["machine"]
    flags = ", ".join(machine["cpu_vector_flags"]) or "no AVX2"
    line = (
        f"{machine['cpu']} (family {machine['cpu_family']}, model {machine['cpu_model']}; "
        f"{flags}), {machine['cores']} cores, {machine['platform']}"
    )
    return line + (f", GPU {machine['gpu']}" if machine.get("gpu") else "")


def header(results: dict[str, Any]) -> str:
    """Where the figures come from, above the table."""
    versions = ", ".join(f"{name} {v}" for name, v in results["versions"].items() if v)
    dirty = " (with uncommitted changes)" if results["git_dirty"] else ""
    return (
        f"# {results['title']}\n\n"
        f"Made by `{results['command']}` on {results['date']}, in {results['elapsed_s']:.0f} s.\n\n"
        f"- git: {results['git_sha']}{dirty}\n"
        f"- machine: {machine_line(results)}\n"
        f"- versions: {versions}\n"
    )


def _number(value: float | None, digits: int = 0, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| system | engine | workload | clients | req/s | p50 ms | p95 ms | errors "
        "| graph / model alone | graph p50 minus model alone's, ms | graph / seed app |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['engine']} | {r['workload']} | {r['concurrency']} "
            f"| {_number(r['throughput'], 2)} | {_number(r['p50_ms'])} | {_number(r['p95_ms'])} "
            f"| {sum(r['errors'].values())} | {_number(r.get('vs_model_alone'), 2, 'x')} "
            f"| {_number(r.get('added_p50_ms'), 0)} | {_number(r.get('vs_seed'), 1, 'x')} |"
        )
    return "\n".join(lines) + "\n"


NOTES = """
Throughput is completed requests over the wall clock of the timed requests, warm-up excluded;
p50 and p95 are of successful requests. Model alone is the mean of its runs just before and just
after the Ray session that served its engine, with Ray down; graph / model alone is graph
throughput over that mean (over several sessions, the median of the sessions' ratios).
docs/benchmarks.md describes the method.
"""


def error_notes(rows: list[dict[str, Any]]) -> str:
    """What each row's errors said, the first answer of each kind."""
    lines = [
        f"- {r['system']}, {r['engine']}, {r['workload']}, {r['concurrency']} clients: "
        f'{count} {kind} ("{r.get("error_examples", {}).get(kind, "")}")'
        for r in rows
        for kind, count in r["errors"].items()
    ]
    return "\nErrors:\n\n" + "\n".join(lines) + "\n" if lines else ""


def mixed_pair_notes(results: dict[str, Any]) -> str:
    """The mixed-pair line's own figures, which the table's columns have no room for: p99, its
    ratio to the single pair measured beside it, the evictions (benchmarks/mixed_pairs.py)."""
    skipped = (results.get("mixed_pairs") or {}).get("skipped")
    if skipped:
        return f"\nMixed pairs: not measured, {skipped}.\n"
    lines = []
    for r in results["rows"]:
        if "single_pair" not in r:
            continue
        single = r["single_pair"]
        lines.append(
            f"- {r['system']}, {r['engine']}, {r['workload']}, {r['concurrency']} clients: "
            f"p99 {_number(r.get('p99_ms'))} ms; {_number(r.get('vs_single_pair'), 2, 'x')} the "
            f"req/s of {single['pair']} alone, the same clients in the same session "
            f"({_number(single['throughput'], 2)} req/s, p50 {_number(single['p50_ms'])} ms, "
            f"p99 {_number(single['p99_ms'])} ms, {sum(single['errors'].values())} errors); "
            f"model evictions in /info during the timed mixed requests {r['evictions']} "
            f"({r['evictions_before']} before, {r['evictions_after']} after), "
            f"during {single['pair']} alone {single['evictions']}"
        )
    return "\nMixed pairs:\n\n" + "\n".join(lines) + "\n" if lines else ""


def markdown(results: dict[str, Any]) -> str:
    rows = results["rows"]
    return (
        f"{header(results)}\n{markdown_table(rows)}{error_notes(rows)}"
        f"{mixed_pair_notes(results)}{NOTES}"
    )


def series_of(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(system, engine) pairs in table order: one bar series each."""
    return list(dict.fromkeys((r["system"], r["engine"]) for r in rows))


def plot(results: dict[str, Any], path: Path) -> None:
    """Throughput and p50 latency side by side, one group of bars per workload and client
    count, graph bars labelled with their ratio to the model alone."""
    rows = results["rows"]
    points = list(dict.fromkeys((r["workload"], r["concurrency"]) for r in rows))
    series = series_of(rows)
    engines = list(dict.fromkeys(engine for system, engine in series if system != "seed app"))
    by_key = {(r["system"], r["engine"], r["workload"], r["concurrency"]): r for r in rows}
    figure, (rate_axes, latency_axes) = plt.subplots(1, 2, figsize=(13, 5.5))
    width = 0.8 / len(series)
    for n, (system, engine) in enumerate(series):
        if system == "seed app":
            style = {"color": "0.55"}
        else:
            colour = f"C{engines.index(engine)}"
            hatch = "//" if system == "model alone" else None
            alpha = 0.5 if system == "model alone" else 0.95
            style = {"color": colour, "hatch": hatch, "alpha": alpha, "edgecolor": colour}
        xs, rates, latencies, found = [], [], [], []
        for x, (name, clients) in enumerate(points):
            measured = by_key.get((system, engine, name, clients))
            if measured is None:
                continue
            xs.append(x + (n - (len(series) - 1) / 2) * width)
            rates.append(measured["throughput"] or 0)
            latencies.append(measured["p50_ms"] or 0)
            found.append(measured)
        label = f"{system}, {engine}"
        rate_axes.bar(xs, rates, width, label=label, **style)
        latency_axes.bar(xs, latencies, width, label=label, **style)
        for x, rate, measured in zip(xs, rates, found, strict=True):
            if measured.get("vs_model_alone") is not None:
                text = f"{measured['vs_model_alone']:.2f}x"
                rate_axes.annotate(text, (x, rate), ha="center", va="bottom", fontsize=7)
    labels = [f"{name}\n{clients} client{'s' if clients > 1 else ''}" for name, clients in points]
    for axes, ylabel in ((rate_axes, "requests/s"), (latency_axes, "p50 latency, ms")):
        axes.set_xticks(range(len(points)), labels)
        axes.set_yscale("log")
        axes.set_ylabel(ylabel)
        axes.grid(True, axis="y", alpha=0.3)
    rate_axes.set_title("throughput (labels: graph / model alone)", fontsize=10)
    latency_axes.set_title("median latency", fontsize=10)
    rate_axes.legend(fontsize=7)
    figure.suptitle(results["title"], fontsize=11)
    dirty = ", uncommitted changes" if results["git_dirty"] else ""
    footer = (
        f"{results['command']}  |  git {results['git_sha'][:10]}{dirty}  |  {results['date']}\n"
        f"{machine_line(results)}"
    )
    figure.text(0.01, 0.01, footer, fontsize=7, va="bottom")
    figure.tight_layout(rect=(0, 0.07, 1, 0.95))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: dict[str, Any], folder: Path, stem: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / f"{stem}.json",
        "markdown": folder / f"{stem}.md",
        "png": folder / f"{stem}.png",
    }
    paths["json"].write_text(json.dumps(results, indent=2) + "\n")
    paths["markdown"].write_text(markdown(results))
    plot(results, paths["png"])
    return paths
