"""The model alone: what the Translator's model thread runs, in a process of its own.

Each graph row of ``make bench`` is divided by this. The child builds ``TranslatorSettings`` from
the very ``user_config`` the graph's Translator is deployed with, loads the engine with
``deployments.engines.load_engine`` and runs texts through a ``BatchRunner`` configured as
``Translator.reconfigure`` configures its own (``runner_for``; a unit test holds the two to the
same values on every shipped config), on one dedicated worker thread, as the Translator's
scheduler does, with the ``OMP_NUM_THREADS`` Ray gives the replica. The process holds nothing
else: no Ray, no load driver, no second engine, so the benchmark's own state cannot slow it down.

The child reads one JSON request per line on stdin and answers one JSON line on stdout; times
are taken in the child, around each model call.

    python -m benchmarks.model_process '{"model": "build/bench-t5-small", "threads": 2}'
    {"texts": ["..."], "clients": 32, "requests": 128, "warmup": 32}
        -> {"result": {...benchmarks.load.LoadResult...}, "padding_waste": 0.11}
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.load import LoadResult, Outcome, summarize
from deployments.batching.lengths import padding_waste
from deployments.batching.runner import BatchRunner
from deployments.core.errors import TranslationServiceError
from deployments.core.messages import TextItem, TranslatorOutcome
from deployments.core.settings import TranslatorSettings
from deployments.engines import Engine, load_engine, resolve_device
from deployments.text.segmentation import SegmentedText, reassemble

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGET = "fr"
MODE = "model alone"

RunCall = Callable[[list[TextItem]], list[TranslatorOutcome]]


def runner_for(engine: Engine, settings: TranslatorSettings) -> BatchRunner:
    """A runner set up as the Translator sets up each model's."""
    runner = BatchRunner(engine, max_batch_tokens=0)
    runner.configure(settings)
    return runner


def calls(start: int, count: int, clients: int, size: int) -> Iterator[list[int]]:
    """Indices into a list of ``size`` texts, cycling from ``start``: ``count`` of them in model
    calls of ``clients`` each (the last may be short), as ``clients`` closed-loop clients whose
    requests the Translator merges into one call would send them."""
    if clients < 1 or size < 1:
        raise ValueError("need clients >= 1 and at least one text")
    for first in range(start, start + count, clients):
        last = min(first + clients, start + count)
        yield [index % size for index in range(first, last)]


def outcome_of(answer: TranslatorOutcome, latency_s: float) -> Outcome:
    """A failed text is counted by its error code, as the HTTP API would answer it."""
    if isinstance(answer, TranslationServiceError):
        return Outcome(latency_s, answer.code, answer.message[:200])
    return Outcome(latency_s)


def drive(
    run_call: RunCall,
    texts: Sequence[str],
    *,
    clients: int,
    requests: int,
    warmup: int = 0,
    outputs: list[str] | None = None,
) -> LoadResult:
    """``warmup`` texts untimed, then ``requests`` timed, in calls of ``clients`` texts each.

    Every text of a call waits for the whole call, so each one's latency is the call's
    duration; throughput is texts over the wall clock of the timed calls. ``outputs``, when
    given, receives the timed texts' translations (the empty string for a failed one).
    """
    for indices in calls(0, warmup, clients, len(texts)):
        run_call([TextItem(texts[i], TARGET) for i in indices])
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    for indices in calls(0, requests, clients, len(texts)):
        call_started = time.perf_counter()
        answers = run_call([TextItem(texts[i], TARGET) for i in indices])
        latency_s = time.perf_counter() - call_started
        outcomes += [outcome_of(answer, latency_s) for answer in answers]
        if outputs is not None:
            outputs += [
                reassemble(a.gaps, a.segments) if isinstance(a, SegmentedText) else ""
                for a in answers
            ]
    return summarize(MODE, outcomes, time.perf_counter() - started, concurrency=clients)


def serve(user_config: dict[str, Any], *, gpus_assigned: bool) -> None:
    # Answers go out on a private copy of stdout; anything else that writes to stdout (a
    # library's print, native code) lands on stderr instead of in the protocol.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    settings = TranslatorSettings.model_validate(user_config)
    model = settings.models[0]  # the model the graph's single-model rows serve
    device = resolve_device(model.device, gpus_assigned=gpus_assigned)
    # Loaded off the model thread, as the Translator loads it.
    engine = load_engine(
        model,
        device,
        threads=settings.threads,
        encoder_group_size=settings.batching.encoder_group_size,
    )
    runner = runner_for(engine, settings)
    # One model thread, as the Translator's BatchScheduler: OpenMP pools live per thread.
    model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")

    def run_call(items: list[TextItem]) -> list[TranslatorOutcome]:
        return model_thread.submit(runner.run, items).result()

    ready = {"engine": engine.engine, "device": device, "threads": settings.threads}
    print(json.dumps({"ready": ready}), file=answers)
    for line in sys.stdin:
        request = json.loads(line)
        outputs: list[str] | None = [] if request.get("outputs") else None
        real, padded = runner.stats.real_tokens, runner.stats.padded_tokens
        result = drive(
            run_call,
            request["texts"],
            clients=request["clients"],
            requests=request["requests"],
            warmup=request.get("warmup", 0),
            outputs=outputs,
        )
        # the warm-up's tokens are counted too: same texts, so the same share of padding
        waste = padding_waste(runner.stats.real_tokens - real, runner.stats.padded_tokens - padded)
        answer = {"result": result.to_dict(), "padding_waste": waste, "outputs": outputs}
        print(json.dumps(answer), file=answers)
    model_thread.shutdown()


def replica_environment(
    ray_actor_options: dict[str, Any], environ: dict[str, str]
) -> dict[str, str]:
    """``environ`` with what Ray adds for a replica of these options: ``OMP_NUM_THREADS`` at
    floor(num_cpus), at least 1, unless already set (Ray's ``set_omp_num_threads_if_unset``)."""
    if "OMP_NUM_THREADS" in environ:
        return dict(environ)
    cpus = ray_actor_options.get("num_cpus", 1)
    return {**environ, "OMP_NUM_THREADS": str(max(math.floor(cpus), 1))}


class ModelProcess:
    """``with ModelProcess(translator) as model: model.drive(texts, clients=32, ...)``, where
    ``translator`` is the Translator's deployment entry of a Serve config."""

    def __init__(self, translator: dict[str, Any]) -> None:
        options = translator.get("ray_actor_options", {})
        self._command = [sys.executable, "-m", "benchmarks.model_process"]
        self._command += [json.dumps(translator["user_config"])]
        # As a replica that Ray gave GPUs (device auto then picks cuda).
        self._command += ["--gpus-assigned"] if options.get("num_gpus", 0) > 0 else []
        self._environment = replica_environment(options, dict(os.environ))
        self._process: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> ModelProcess:
        self._process = subprocess.Popen(
            self._command,
            cwd=PROJECT_ROOT,
            env=self._environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        first_line = self._process.stdout.readline()
        try:
            self.info = json.loads(first_line)["ready"]
        except (ValueError, KeyError, TypeError):
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"the model process did not start (said {first_line!r})") from None
        return self

    def __exit__(self, *exc_info) -> None:
        self._process.stdin.close()  # EOF: the child returns
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process else None

    def drive(
        self,
        texts: Sequence[str],
        *,
        clients: int,
        requests: int,
        warmup: int = 0,
        outputs: bool = False,
    ) -> dict[str, Any]:
        """The child's answer to one ``drive``: ``result`` (a LoadResult as a dict),
        ``padding_waste``, and ``outputs`` (the translations) when asked for."""
        request = {"texts": list(texts), "clients": clients, "requests": requests}
        request |= {"warmup": warmup, "outputs": outputs}
        self._process.stdin.write(json.dumps(request) + "\n")
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the model process exited ({self._process.wait()})")
        return json.loads(answer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("user_config", help="the Translator's user_config, as JSON")
    parser.add_argument(
        "--gpus-assigned", action="store_true", help="as a replica given num_gpus > 0"
    )
    args = parser.parse_args(argv)
    serve(json.loads(args.user_config), gpus_assigned=args.gpus_assigned)
    return 0


if __name__ == "__main__":
    sys.exit(main())
