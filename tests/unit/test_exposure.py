"""What `make run` exposes: the local config listens on loopback only, HTTP and dashboard."""

import inspect
import ipaddress

import yaml
from ray._private import worker
from ray.serve import scripts

from tests.paths import CONFIGS


def test_the_local_config_serves_http_on_loopback_only():
    config = yaml.safe_load((CONFIGS / "local.yaml").read_text())
    assert ipaddress.ip_address(config["http_options"]["host"]).is_loopback


def test_serve_run_binds_the_ray_dashboard_to_loopback():
    # `serve run configs/local.yaml` starts Ray with ray.init() and no dashboard_host, so the
    # dashboard (which can run jobs) takes ray.init's default. Guard it across Ray upgrades.
    # worker.init is ray.init (the unit tests' conftest stubs out the name ray.init).
    default = inspect.signature(inspect.unwrap(worker.init)).parameters["dashboard_host"].default
    assert ipaddress.ip_address(default).is_loopback
    assert "dashboard_host" not in inspect.getsource(scripts.run.callback)


def test_make_run_fixes_the_metrics_port_and_keeps_the_dashboard_on_loopback(monkeypatch):
    from graph import run

    calls = {}
    monkeypatch.setattr(run.ray, "init", lambda **kwargs: calls.setdefault("init", kwargs))
    monkeypatch.setattr(run.cli, "main", lambda args, **_: calls.setdefault("serve", args))
    monkeypatch.setenv("METRICS_PORT", "9123")
    run.main(["configs/local.yaml"])
    assert calls["init"]["_metrics_export_port"] == 9123
    assert ipaddress.ip_address(calls["init"]["dashboard_host"]).is_loopback
    assert calls["serve"] == ["run", "configs/local.yaml"]
    makefile = (CONFIGS.parent / "Makefile").read_text()
    assert "-m graph.run configs/$(CONFIG).yaml" in makefile
    assert "CONFIG ?= local" in makefile
