"""Apply a shipped config to a running Serve instance, the way `serve deploy` does.

For tests and benchmarks, which run configs/*.yaml in-process with a few values changed (the
checkpoint path, the port). The config goes to the Serve controller declaratively, so a later
deploy that changes only user_config updates the replicas in place, as in production.
"""

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ray
import yaml
from ray import serve
from ray.serve._private.client import ServeControllerClient
from ray.serve.context import _get_global_client
from ray.serve.schema import (
    ApplicationStatus,
    ReplicaDetails,
    ServeDeploySchema,
    ServeInstanceDetails,
)

from deployments.core.settings import MODEL_KEYS
from graph.app import APP_NAME
from graph.cluster import apply_ray_env

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def load_config(
    name: str,
    *,
    model: str | None = None,
    port: int | None = None,
    first_model_only: bool = False,
) -> dict:
    """``configs/<name>.yaml`` as a dict, optionally with another checkpoint (for its first
    model) and port, or serving only its first model (the single-model path)."""
    config = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    if port is not None:
        config["http_options"]["port"] = port
    translator = deployment_of(config, "Translator")
    if model is not None:
        change_translator(translator["user_config"], model=model)
    if first_model_only:
        translator["user_config"] = only_first_model(translator["user_config"])
    return config


def change_translator(user_config: dict, **changes: object) -> None:
    """Set keys of a Translator's user_config in place; a model's keys (``model``, ``engine``,
    ``decoding``...) go to its first model where it lists several."""
    models = user_config.get("models")
    for key, value in changes.items():
        if models and key in MODEL_KEYS:
            models[0][key] = value
        else:
            user_config[key] = value


def only_first_model(user_config: dict) -> dict:
    """A Translator user_config serving its first model alone, that model's keys at the top."""
    models = user_config.get("models")
    if not models:
        return copy.deepcopy(user_config)
    rest = {k: v for k, v in user_config.items() if k not in ("models", "max_models_per_replica")}
    first = {k: v for k, v in models[0].items() if k != "id"}
    return copy.deepcopy({**rest, **first})


def deployment_of(config: dict, name: str, app: str = APP_NAME) -> dict:
    (application,) = [a for a in config["applications"] if a["name"] == app]
    (deployment,) = [d for d in application["deployments"] if d["name"] == name]
    return deployment


@contextmanager
def local_serve(port: int, **ray_init_options) -> Iterator[None]:
    """A Ray of its own on this machine, started as ``make run`` starts it (graph/cluster.py),
    with Serve's HTTP on 127.0.0.1:``port``; both shut down on leaving."""
    apply_ray_env()
    ray.init(address="local", include_dashboard=False, log_to_driver=False, **ray_init_options)
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        yield
    finally:
        serve.shutdown()
        ray.shutdown()


def deploy(config: dict, wait_for: tuple[str, ...] = (APP_NAME,), timeout_s: float = 180) -> None:
    """Apply a whole Serve config and wait until the ``wait_for`` applications are RUNNING.

    Serve must already be started in this process (``serve.start``).
    """
    _client().deploy_apps(ServeDeploySchema.model_validate(copy.deepcopy(config)))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        applications = serve.status().applications
        if all(
            name in applications and applications[name].status == ApplicationStatus.RUNNING
            for name in wait_for
        ):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{wait_for} not RUNNING after {timeout_s} s: {serve.status()}")


def _client() -> ServeControllerClient:
    client = _get_global_client()
    if client is None:
        raise RuntimeError("Serve is not started in this process (serve.start)")
    return client


def replicas(app: str = APP_NAME) -> dict[str, list[ReplicaDetails]]:
    """Each deployment's live replicas (id, node, actor, start time), as ``serve status -v``.

    Read from the Serve controller, so it needs no dashboard.
    """
    details = ServeInstanceDetails(**_client().get_serve_details())
    deployments = details.applications[app].deployments
    return {name: list(deployment.replicas) for name, deployment in deployments.items()}
