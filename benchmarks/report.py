"""Benchmark results as files: JSON (with provenance), a Markdown table, a PNG plot."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

# Systems whose rows repeat a load already measured (benchmarks/run.py): kept out of the plot.
REPEATS = ("paired", "bar round")


def provenance() -> dict[str, Any]:
    """Which code, which libraries, which machine."""

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
        cpu = {"cpu": "unknown"}
    return {
        "git_sha": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "versions": {name: version(name) for name in ("ray", "torch", "transformers", "fastapi")}
        | {"python": platform.python_version()},
        "machine": {
            **cpu,
            # the kernels torch picked on this CPU (DEFAULT, AVX2, AVX512, ...)
            "torch_cpu_capability": torch.engines.cpu.get_cpu_capability(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            # a GPU run's numbers are the card's: they are published labelled with it
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        },
    }


# The vector extensions that decide which kernels torch and CTranslate2 run on a CPU.
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16")


def cpu_identity(cpuinfo: str) -> dict[str, Any]:
    """The first CPU of ``/proc/cpuinfo``: its name, family and model, and vector extensions.

    Machines of the same kind here have been different CPUs behind the same name ("AMD EPYC"):
    one with AVX-512 and bfloat16, one with AVX2 only, where torch float32 ran at about half the
    speed and bfloat16 at a tenth. Results from two runs compare only on the same CPU.
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


def markdown_table(rows: list[dict[str, Any]]) -> str:
    header = (
        "| system | engine | workload | load | throughput (req/s) | p50 ms | p95 ms | p99 ms "
        "| errors |\n|---|---|---|---|---|---|---|---|---|\n"
    )

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    lines = []
    for row in rows:
        errors = sum(row.get("errors", {}).values())
        lines.append(
            f"| {row['system']} | {row.get('engine', '-')} | {row['workload']} | {row['load']} "
            f"| {row['throughput']:.1f} "
            f"| {ms(row.get('p50_ms'))} | {ms(row.get('p95_ms'))} | {ms(row.get('p99_ms'))} "
            f"| {errors} |"
        )
    return header + "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Throughput against p50 latency, one line per system, engine and workload (in load
    order), and the in-process limits of the served engines as vertical lines, in the colour
    of their engine's graph."""
    figure, axes = plt.subplots(figsize=(9, 6))
    series: dict[str, list[dict[str, Any]]] = {}
    served = {row.get("engine") for row in rows if row["system"].startswith("graph")}
    colours = {engine: f"C{n}" for n, engine in enumerate(sorted(served, key=str))}
    for row in rows:
        engine = row.get("engine")
        if row["system"] == "in-process limit":
            if engine not in served:
                continue
            style = "--" if row["workload"] == "uniform" else ":"
            label = f"in-process limit, {engine} ({row['workload']})"
            axes.axvline(
                row["throughput"], color=colours[engine], linestyle=style, alpha=0.6, label=label
            )
        # repeats of a point already on its curve (paired runs, bar rounds) would zigzag it
        elif row.get("p50_ms") is not None and not row["system"].endswith(REPEATS):
            label = f"{row['system']}, {engine or '-'} ({row['workload']})"
            series.setdefault(label, []).append(row)
    for label, points in series.items():
        points.sort(key=_load_order)
        xs = [p["throughput"] for p in points]
        ys = [p["p50_ms"] for p in points]
        engine = points[0].get("engine")
        marker = "o" if points[0]["workload"] == "uniform" else "s"
        colour = colours.get(engine) if points[0]["system"].startswith("graph") else "black"
        axes.plot(xs, ys, marker=marker, label=label, color=colour, alpha=0.9)
        for point in points:
            axes.annotate(point["load"], (point["throughput"], point["p50_ms"]), fontsize=7)
    axes.set_xlabel("throughput (requests/s)")
    axes.set_ylabel("p50 latency (ms)")
    axes.set_yscale("log")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=6, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _load_order(row: dict[str, Any]) -> float:
    """c=1 < c=8 < ... and 5/s < 9/s: the number in the load label."""
    digits = "".join(ch for ch in row["load"] if ch.isdigit() or ch == ".")
    return float(digits or 0)


def write(results: dict[str, Any], folder: Path, stem: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / f"{stem}.json",
        "markdown": folder / f"{stem}.md",
        "png": folder / f"{stem}.png",
    }
    paths["json"].write_text(json.dumps(results, indent=2) + "\n")
    paths["markdown"].write_text(results["markdown"])
    plot(results["rows"], paths["png"], results["title"])
    return paths
