"""`make run`'s entry point, stopped each ordinary way, leaves no process and no port behind.

Each test starts ``python -m graph.run <config>`` as `make run` does, in a process group and
session of its own as a shell gives it, on ports of its own, waits for /health, stops it, and
then looks for any process of either of the run's two sessions (graph/run.py's and its child's,
which holds Ray and HAProxy) and any listener on its ports. A run killed with SIGKILL is cleaned
up by the next one, which must then start on the same ports.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from graph.deploy import load_config
from graph.ports import haproxy_ports, listeners_on
from graph.procs import Proc, members, saved_runs
from tests.conftest import with_checkpoints
from tests.paths import ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

# Away from tests/integration's ports and the other slow modules' (TEST_SERVE_PORT + 50, + 51).
_BASE = int(os.environ.get("TEST_SERVE_PORT", "8123"))
PORT = int(os.environ.get("TEST_STOP_SERVE_PORT", str(_BASE + 60)))
METRICS_PORT, DASHBOARD_PORT = PORT + 1, PORT + 2
RAY_PORTS = {
    PORT: "tests/slow/test_stop.py's Serve HTTP, TEST_STOP_SERVE_PORT",
    METRICS_PORT: "tests/slow/test_stop.py's Ray metrics, TEST_STOP_SERVE_PORT + 1",
    DASHBOARD_PORT: "tests/slow/test_stop.py's Ray dashboard, TEST_STOP_SERVE_PORT + 2",
}
START_TIMEOUT_S = 240
# The stop is an orderly one (Serve drains the ingress for 5 s); graph/run.py gives it 30 s
# before it ends what is left, so this bounds a stop that went wrong, not a slow machine.
STOP_TIMEOUT_S = 45


class Run:
    """One ``python -m graph.run``, as a shell starts it: its own session and process group."""

    def __init__(self, config: Path, log: Path) -> None:
        env = {
            **os.environ,
            "METRICS_PORT": str(METRICS_PORT),
            "DASHBOARD_PORT": str(DASHBOARD_PORT),
        }
        env.setdefault("RAY_AUTH_MODE", "token")  # as the Makefile exports it
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "graph.run", str(config)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.process.pid
        self.child: int | None = None

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"graph.run exited early:\n{self.tail()}"
            # graph.run writes its record once its ports were free and its child started: any
            # /health answer before that would be an earlier run's.
            if self.child is None:
                records = [r for r in saved_runs() if r.supervisor == self.pid]
                self.child = records[0].session if records else None
                time.sleep(0.1)
                continue
            try:
                response = requests.get(f"http://127.0.0.1:{PORT}/health", timeout=2)
                if response.status_code == 200 and response.json().get("status") == "ok":
                    break
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"no /health 200 in {START_TIMEOUT_S} s:\n{self.tail()}")

    def sessions(self) -> set[int]:
        # graph.run leads its own session (start_new_session); its child leads the other.
        return {self.pid} | ({self.child} if self.child else set())

    def left(self) -> list[Proc]:
        return [p for session in self.sessions() for p in members(session)]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        for proc in self.left():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        self.process.wait()


def ports_used() -> set[int]:
    return set(RAY_PORTS) | set(haproxy_ports(os.environ))


def wait_until_gone(runs: list[Run], since: float) -> None:
    """No process of ``runs`` left and nothing listening on their ports, within the limit."""
    while True:
        left = [proc for run in runs for proc in run.left()]
        listening = listeners_on(ports_used())
        if not left and not listening:
            return
        if time.monotonic() - since > STOP_TIMEOUT_S:
            pytest.fail(
                f"{STOP_TIMEOUT_S} s after the stop, still running: {left}; still listening:"
                f" {listening}\n{runs[-1].tail()}"
            )
        time.sleep(0.25)


@pytest.fixture
def config(tmp_path, phrasebook_checkpoints) -> Path:
    path = tmp_path / "local.yaml"
    config = with_checkpoints(load_config("local", port=PORT), phrasebook_checkpoints)
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def start(config, tmp_path):
    runs: list[Run] = []

    def start_run() -> Run:
        run = Run(config, tmp_path / f"run-{len(runs)}.log")
        runs.append(run)
        run.wait_healthy()
        return run

    yield start_run
    for run in runs:  # a failed test still leaves nothing behind for the next one
        run.kill()


STOPS = {
    # Ctrl-C: the terminal sends SIGINT to its foreground process group.
    "ctrl-c": lambda run: os.killpg(run.pid, signal.SIGINT),
    "sigterm": lambda run: os.kill(run.pid, signal.SIGTERM),
    # What `timeout` and `kill -- -PGID` do.
    "sigterm-group": lambda run: os.killpg(run.pid, signal.SIGTERM),
    # A closed terminal.
    "sighup-group": lambda run: os.killpg(run.pid, signal.SIGHUP),
}


@pytest.mark.parametrize("how", sorted(STOPS))
def test_a_stop_leaves_nothing_running_or_listening(start, how):
    run = start()
    assert len(run.left()) > 10, "Ray's processes are not in the run's sessions"
    stopped = time.monotonic()
    STOPS[how](run)
    run.process.wait(timeout=STOP_TIMEOUT_S)
    wait_until_gone([run], stopped)
    assert not [r for r in saved_runs() if r.supervisor == run.pid]


def test_the_next_run_ends_what_a_killed_run_left(start):
    killed = start()
    os.kill(killed.pid, signal.SIGKILL)
    killed.process.wait()
    # Its child goes on (or shuts down) without it; the next run must start on the same ports.
    started = time.monotonic()
    following = start()
    assert not killed.left(), f"left by the killed run: {killed.left()}"
    assert time.monotonic() - started < START_TIMEOUT_S
    stopped = time.monotonic()
    os.killpg(following.pid, signal.SIGTERM)
    following.process.wait(timeout=STOP_TIMEOUT_S)
    wait_until_gone([killed, following], stopped)
