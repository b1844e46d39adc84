"""The Ray cluster settings make run and make bench start Ray with."""

import json
import os
import subprocess
import sys

from graph.cluster import RAY_ENV, apply_ray_env

# Ray reads its settings from RAY_<name as in its config>, lower case included.
NICENESS = "RAY_worker_niceness"
DRAINING_WINDOW = "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"


def test_replicas_run_at_the_daemons_priority(monkeypatch):
    monkeypatch.delenv(NICENESS, raising=False)
    apply_ray_env()
    assert os.environ.get(NICENESS) == "0"


def test_only_a_one_machine_ray_shortens_the_ingress_draining_window(monkeypatch):
    monkeypatch.delenv(DRAINING_WINDOW, raising=False)
    apply_ray_env()
    assert os.environ.get(DRAINING_WINDOW) == "5"
    assert DRAINING_WINDOW not in RAY_ENV  # the KubeRay pods keep Serve's 30 s


def test_a_value_already_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv(NICENESS, "5")
    apply_ray_env()
    assert os.environ.get(NICENESS) == "5"


# Serve reads its flags once, when its constants module is imported: ask a fresh interpreter
# with exactly RAY_ENV what they came to, so a Ray upgrade that changes their meaning shows here.
SERVE_MODE = """
import json
from ray.serve._private import constants as c
print(json.dumps({
    "user_code_on_main_loop": not c.RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD,
    "router_on_main_loop": not c.RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP,
    "grpc_between_replicas": c.RAY_SERVE_USE_GRPC_BY_DEFAULT,
    "haproxy_in_front": c.RAY_SERVE_ENABLE_HA_PROXY,
    "direct_ingress": c.RAY_SERVE_ENABLE_DIRECT_INGRESS,
    "log_lines_buffered": c.RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE,
    "logs_on_stderr": c.RAY_SERVE_LOG_TO_STDERR,
    "control_loop_interval_s": c.CONTROL_LOOP_INTERVAL_S,
}))
"""


def test_serve_runs_throughput_optimized_behind_haproxy_with_sync_callers_and_logs_as_default():
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_ENV)
    out = subprocess.run(
        [sys.executable, "-c", SERVE_MODE], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "user_code_on_main_loop": True,
        "router_on_main_loop": False,  # plain sync callers of a handle keep working
        "grpc_between_replicas": True,
        "haproxy_in_front": True,
        "direct_ingress": True,  # HAProxy forwards to the ingress replica's own HTTP server
        "log_lines_buffered": 1,
        "logs_on_stderr": True,
        "control_loop_interval_s": 0.5,  # Serve's default 0.1 (graph/cluster.py)
    }
