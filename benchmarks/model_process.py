"""The model alone in a fresh Python process, timed on request from the benchmark's process.

The benchmark's own process is a poor reference late in a run: by then it holds every engine's
model and has driven every load, and in make bench at 7ddf767 its torch limit fell from 14.1
sentences/s (uniform, before the served runs) to 10.4 after them, bf16 from 33 to 14, while
fresh processes around it measured 15.5-15.8 (CTranslate2 in the same process did not slow
down; not understood). So the references taken beside the graph, the lone pairs and the limit
around its 32-client runs, come from a process started just before them, with nothing in it but
the model, as in the Translator replica.

The child reads one JSON request per line on stdin and answers one JSON line on stdout; the
times are taken in the child, around the model call alone.

    python -m benchmarks.model_process build/bench-t5-small --threads 2
    {"lone": "Hello world."}           -> {"ms": 612.3}
    {"batched": ["...", "..."]}        -> {"sentences_per_s": 15.2}
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

READY = "ready"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ModelProcess:
    """``with ModelProcess(checkpoint, threads=2) as model: model.lone_ms(text)``"""

    def __init__(self, checkpoint: str, *, threads: int, device: str = "cpu") -> None:
        self._command = [sys.executable, "-m", "benchmarks.model_process", checkpoint]
        self._command += ["--threads", str(threads), "--device", device]
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> ModelProcess:
        self._process = subprocess.Popen(
            self._command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        first_line = self._process.stdout.readline().strip()
        if first_line != READY:
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"the model process did not start (said {first_line!r})")
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

    def _ask(self, request: dict) -> dict:
        self._process.stdin.write(json.dumps(request) + "\n")
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the model process exited ({self._process.wait()})")
        return json.loads(answer)

    def lone_ms(self, text: str) -> float:
        """Milliseconds of one ``translate`` of ``text`` alone."""
        return self._ask({"lone": text})["ms"]

    def sentences_per_s(self, texts: Sequence[str]) -> float:
        """The batched limit on ``texts``, as ``inprocess.batched_sentences_per_s``."""
        return self._ask({"batched": list(texts)})["sentences_per_s"]


def serve(checkpoint: str, *, threads: int, device: str) -> None:
    # Answers go out on a private copy of stdout; whatever else writes to stdout (a library's
    # print, native code) lands on stderr instead of in the protocol.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    from benchmarks import inprocess

    translator = inprocess.load_translator(checkpoint, threads=threads, device=device)
    translator.translate(["Warm up."], "fr")
    print(READY, file=answers)
    for line in sys.stdin:
        request = json.loads(line)
        if "lone" in request:
            ms = inprocess.lone_sentence_ms(translator, request["lone"], runs=1, warmup=0)
            answer = {"ms": ms}
        else:
            answer = {
                "sentences_per_s": inprocess.batched_sentences_per_s(translator, request["batched"])
            }
        print(json.dumps(answer), file=answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="hub id or local folder")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    serve(args.checkpoint, threads=args.threads, device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
