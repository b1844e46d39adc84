"""The processes of one ``make run``, found by session id, and their end (Linux /proc).

graph/run.py starts the process that starts Ray in a new session. Every process of that run
stays in it, whatever process group Ray gives it: the Ray daemons, each worker (Ray puts each in
a group of its own) and what the workers start, HAProxy included, even once orphaned. So the
session id names exactly this run's processes, and nothing else: the kernel does not reuse a
pid while a session of that id has a member. A small state file per run, under the user's cache
directory, lets the next ``make run`` end what a run killed with SIGKILL left behind.
"""

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RUN_ID_VARIABLE = "GRAPH_RUN_ID"
_PROC = Path("/proc")


def state_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "serve-translation" / "runs"


@dataclass(frozen=True)
class Proc:
    pid: int
    session: int
    state: str
    start: int  # clock ticks after boot: with the pid, tells a process from a later one


def read_proc(pid: int) -> Proc | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may itself hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return Proc(pid, session=int(fields[3]), state=fields[0], start=int(fields[19]))


def processes() -> list[Proc]:
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (proc := read_proc(int(entry.name))):
            found.append(proc)
    return found


def is_alive(pid: int, start: int) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs (not a zombie)."""
    proc = read_proc(pid)
    return proc is not None and proc.start == start and proc.state != "Z"


def members(session: int) -> list[Proc]:
    """The live processes of a session, but this one; zombies hold no port and cannot be ended."""
    return [
        p for p in processes() if p.session == session and p.state != "Z" and p.pid != os.getpid()
    ]


def carries(pid: int, run_id: str) -> bool:
    """Whether the process was started with this run's id in its environment."""
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return f"{RUN_ID_VARIABLE}={run_id}".encode() in environ.split(b"\0")


def end_session(session: int, grace_s: float = 2.0) -> list[int]:
    """SIGTERM every live process of ``session``, SIGKILL those still there after ``grace_s``,
    and wait (a few seconds at most) until none is left; the pids signalled."""
    signalled: list[int] = []
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        left = members(session)
        for proc in left:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                continue
            if proc.pid not in signalled:
                signalled.append(proc.pid)
        deadline = time.monotonic() + wait_s
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = members(session)
        if not left:
            break
    return signalled


@dataclass(frozen=True)
class RunRecord:
    """What a running ``make run`` writes down so that a later one can clean up after it."""

    supervisor: int
    supervisor_start: int
    session: int
    session_start: int
    run_id: str
    argv: list[str]

    @property
    def path(self) -> Path:
        return state_dir() / f"{self.supervisor}-{self.run_id}.json"

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.__dict__))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def is_ours(self, procs: list[Proc]) -> bool:
        """Whether the live processes in this run's session id are this run's: its session
        leader still runs, or one of them carries its id (a later session can have the same
        number only once every process of this one is gone)."""
        leader_alive = is_alive(self.session, self.session_start)
        return leader_alive or any(carries(p.pid, self.run_id) for p in procs)


def saved_runs() -> list[RunRecord]:
    records = []
    for path in sorted(state_dir().glob("*.json")):
        try:
            records.append(RunRecord(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)  # unreadable: written by nothing that still runs
    return records


def clean_up_dead_runs(say: Callable[[str], None]) -> None:
    """End what runs whose supervisor is gone (killed with SIGKILL) left running."""
    for record in saved_runs():
        if is_alive(record.supervisor, record.supervisor_start):
            continue  # a run still going: its own supervisor stops it
        left = members(record.session)
        if left and record.is_ours(left):
            pids = end_session(record.session)
            say(
                f"ended {len(pids)} process(es) left by an earlier run (pid {record.supervisor},"
                f" session {record.session}): {' '.join(map(str, pids))}"
            )
        elif left:
            say(
                f"left alone: processes in session {record.session} that no longer look like"
                f" the earlier run's: {' '.join(str(p.pid) for p in left)}"
            )
        record.remove()
