"""``make run``: ``serve run <config>`` on a local Ray with fixed ports, leaving nothing behind.

``serve run`` starts Ray with ``ray.init()``, which picks a random metrics export port and has
no environment variable to fix it. So this starts the local Ray first, on ``METRICS_PORT``
(default 8080, Ray's and KubeRay's usual port) with the dashboard on 127.0.0.1:``DASHBOARD_PORT``
(8265) as ``serve run`` has it, and with graph/cluster.py's settings, then hands over to ``serve
run`` itself, which uses the Ray already started: same arguments, same output.

Two processes, so that every ordinary stop is an orderly one. This one checks the ports first,
ends what an earlier run killed with SIGKILL left (graph/procs.py), and starts a child in a new
session that runs Ray and ``serve run``. The Ray daemons are the child's children, in its process
group: were that the terminal's group, a SIGTERM or SIGHUP to the group (``timeout``, ``kill --
-PGID``, a closed terminal) would reach the raylet with the driver, the raylet would stop before
Serve could, and HAProxy, a plain child of a Ray worker, would be orphaned on its ports. Here
SIGINT, SIGTERM and SIGHUP reach this process only; it passes a SIGINT to the child, which shuts
Serve down (HAProxy with it) and then Ray, as ``serve run`` does on Ctrl-C. Whatever of the
child's session is still there afterwards, or 30 s on, or at a second signal, is ended. If this
process is killed with SIGKILL, the child gets its SIGINT from the kernel (PR_SET_PDEATHSIG).

    python -m graph.run configs/local.yaml
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping

import ray
from ray import serve
from ray.serve._private.constants import SERVE_NAMESPACE
from ray.serve.scripts import cli

from graph.cluster import apply_ray_env
from graph.ports import DASHBOARD_PORT, haproxy_ports, http_port_of, taken_ports
from graph.procs import RUN_ID_VARIABLE, RunRecord, clean_up_dead_runs, end_session, read_proc

DEFAULT_METRICS_PORT = 8080
# How long the child may take over Serve's and Ray's shutdown (the ingress drains for 5 s).
STOP_GRACE_S = 30.0
# Two signals this close together are one stop (a closed terminal sends SIGHUP, then the
# shell sends its jobs another); a later one means "now".
SAME_STOP_S = 1.0
_CHILD = "--serve-child"
_SUPERVISOR_VARIABLE = "GRAPH_RUN_SUPERVISOR"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(line: str) -> None:
    # After SIGHUP the terminal may be gone; the stop must go on without it.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"graph.run: {line}\n")
        sys.stderr.flush()


def ports_needed(argv: list[str], environ: Mapping[str, str]) -> dict[int, str]:
    """Each port the run will listen on -> what for (merged where two uses share one)."""
    target = next((arg for arg in argv if not arg.startswith("-")), "")
    uses = [
        (http_port_of(target), f"Serve's HTTP, http_options.port in {target or 'the default'}"),
        (int(environ.get("METRICS_PORT", DEFAULT_METRICS_PORT)), "Ray's metrics, METRICS_PORT"),
        (int(environ.get("DASHBOARD_PORT", DASHBOARD_PORT)), "Ray's dashboard, DASHBOARD_PORT"),
        *haproxy_ports(environ).items(),
    ]
    needed: dict[int, str] = {}
    for port, use in uses:
        needed[port] = f"{needed[port]}; {use}" if port in needed else use
    return needed


class _Stop:
    """The stop signals this process received: when the first came, and whether to hurry."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.name = ""
        self.now = False

    def __call__(self, signum: int, frame: object) -> None:
        moment = time.monotonic()
        if self.first is None:
            self.first, self.name = moment, signal.Signals(signum).name
        elif moment - self.first > SAME_STOP_S:
            self.now = True


def supervise(argv: list[str]) -> int:
    apply_ray_env()  # before the port check: it decides whether HAProxy runs
    clean_up_dead_runs(say)
    taken = taken_ports(ports_needed(argv, os.environ))
    if taken:
        say("not started, a port it needs is taken:\n  " + "\n  ".join(taken))
        say("stop that process, or run on other ports: docs/operations.md, Stopping and ports")
        return 1

    stop = _Stop()
    for sig in _STOP_SIGNALS:
        signal.signal(sig, stop)
    run_id = uuid.uuid4().hex
    env = {**os.environ, RUN_ID_VARIABLE: run_id, _SUPERVISOR_VARIABLE: str(os.getpid())}
    child = subprocess.Popen(
        [sys.executable, "-m", "graph.run", _CHILD, *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    me, leader = read_proc(os.getpid()), read_proc(child.pid)
    record = RunRecord(
        supervisor=os.getpid(),
        supervisor_start=me.start if me else 0,
        session=child.pid,
        session_start=leader.start if leader else 0,
        run_id=run_id,
        argv=argv,
    )
    record.save()
    try:
        code = _wait(child, stop)
    finally:
        left = end_session(child.pid)
        record.remove()
    if left:
        say(f"ended {len(left)} process(es) of this run still there: {' '.join(map(str, left))}")
    return code if code >= 0 else 128 - code


def _wait(child: subprocess.Popen, stop: _Stop) -> int:
    asked = False
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        if stop.first is None:
            continue
        if not asked:
            say(f"{stop.name}: stopping Serve, then Ray")
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGINT)
            asked = True
        if stop.now or time.monotonic() - stop.first > STOP_GRACE_S:
            say("ending every process of this run now")
            end_session(child.pid, grace_s=0.5)
            return child.wait()


def serve_child(argv: list[str]) -> None:
    """The child: Ray and ``serve run`` (``main``), then the end of whatever of its session is
    still there, Ray's own leftovers included."""
    if not _dies_with_supervisor():
        return
    try:
        main(argv)
    finally:
        if os.getsid(0) == os.getpid() and (left := end_session(os.getpid())):
            say(f"ended {len(left)} process(es) Ray left: {' '.join(map(str, left))}")


def _dies_with_supervisor() -> bool:
    """Ask the kernel for a SIGINT when the supervisor dies; False if it already has."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGINT, 0, 0, 0)
    return os.getppid() == int(os.environ.get(_SUPERVISOR_VARIABLE, "0"))


def main(argv: list[str]) -> None:
    """Ray and ``serve run`` in this process, shut down in order on SIGINT, SIGTERM or SIGHUP."""
    stopping = False

    def interrupt(signum: int, frame: object) -> None:
        # One KeyboardInterrupt, which `serve run` answers with serve.shutdown(); none during
        # the shutdown itself.
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    before = {sig: signal.signal(sig, interrupt) for sig in _STOP_SIGNALS}
    try:
        apply_ray_env()
        ray.init(
            address="local",
            namespace=SERVE_NAMESPACE,
            dashboard_host="127.0.0.1",
            dashboard_port=int(os.environ.get("DASHBOARD_PORT", DASHBOARD_PORT)),
            _metrics_export_port=int(os.environ.get("METRICS_PORT", DEFAULT_METRICS_PORT)),
        )
        # ray.init's core worker put a SIGTERM handler of its own in place, which aborts.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, interrupt)
        cli.main(["run", *argv], prog_name="serve")
    finally:
        stopping = True
        if ray.is_initialized():
            try:
                serve.shutdown()  # HAProxy goes with Serve's proxies; a no-op the second time
            finally:
                ray.shutdown()
        for sig, handler in before.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def entry(argv: list[str]) -> int:
    """``python -m graph.run``: the supervisor, or with ``--serve-child`` first, its child."""
    if argv[:1] == [_CHILD]:
        serve_child(argv[1:])
        return 0
    return supervise(argv)


if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:]))
