"""Finding and ending one run's processes by session, and nothing else (graph/procs.py)."""

import os
import subprocess
import sys
import time

import pytest

from graph.procs import (
    RUN_ID_VARIABLE,
    RunRecord,
    clean_up_dead_runs,
    end_session,
    is_alive,
    members,
    read_proc,
    saved_runs,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def sleeper(run_id: str | None = None, *, children: int = 0) -> subprocess.Popen:
    """A process in a session of its own (as graph/run.py starts its child), with
    ``children`` sleeping children of its own in that session."""
    env = dict(os.environ)
    env.pop(RUN_ID_VARIABLE, None)
    if run_id:
        env[RUN_ID_VARIABLE] = run_id
    code = (
        "import subprocess, sys, time\n"
        f"kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])"
        f" for _ in range({children})]\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=env, start_new_session=True, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    return process


def a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_session_is_its_processes_and_ends_whole():
    leader = sleeper(children=2)
    try:
        assert len(members(leader.pid)) == 3
        signalled = end_session(leader.pid)
        assert len(signalled) == 3 and leader.pid in signalled
        assert members(leader.pid) == []
        assert leader.wait(timeout=5) != 0
    finally:
        leader.kill()


def test_ending_a_session_spares_the_process_that_asks():
    me = read_proc(os.getpid())
    assert me is not None and me.session == os.getsid(0)
    assert all(p.pid != os.getpid() for p in members(me.session))


def test_a_dead_run_s_processes_are_ended_by_the_next_run():
    leader = sleeper("run-a", children=1)
    start = read_proc(leader.pid).start  # type: ignore[union-attr]
    record = RunRecord(a_dead_pid(), 1, leader.pid, start, "run-a", ["configs/local.yaml"])
    record.save()
    said: list[str] = []
    try:
        clean_up_dead_runs(said.append)
        assert members(leader.pid) == []
        assert "ended 2 process(es) left by an earlier run" in said[0]
        assert saved_runs() == []
    finally:
        leader.kill()


def test_a_live_run_is_left_to_its_own_supervisor():
    leader = sleeper("run-b")
    me = read_proc(os.getpid())
    start = read_proc(leader.pid).start  # type: ignore[union-attr]
    record = RunRecord(os.getpid(), me.start, leader.pid, start, "run-b", [])  # type: ignore[union-attr]
    record.save()
    try:
        clean_up_dead_runs(pytest.fail)
        assert len(members(leader.pid)) == 1
        assert saved_runs() == [record]
    finally:
        leader.kill()
        record.remove()


def test_a_session_that_is_not_the_run_s_is_left_alone():
    # The same session number, but neither its leader's start time nor its run id match:
    # what a reused pid would look like.
    stranger = sleeper("someone-else")
    record = RunRecord(a_dead_pid(), 1, stranger.pid, 1, "run-c", [])
    record.save()
    said: list[str] = []
    try:
        clean_up_dead_runs(said.append)
        assert is_alive(stranger.pid, read_proc(stranger.pid).start)  # type: ignore[union-attr]
        assert "left alone" in said[0]
        assert saved_runs() == []
    finally:
        stranger.kill()


def test_end_session_waits_until_the_processes_are_gone():
    leader = sleeper(children=1)
    try:
        started = time.monotonic()
        end_session(leader.pid, grace_s=5)
        assert members(leader.pid) == []
        assert time.monotonic() - started < 5  # SIGTERM sufficed
    finally:
        leader.kill()
