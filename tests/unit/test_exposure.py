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
