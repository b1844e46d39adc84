"""Every shipped config is a valid Serve config, sizes each deployment, and builds our graph."""

import subprocess
import sys

import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from deployments.core.settings import IngressSettings, PostprocessorSettings, TranslatorSettings
from tests.paths import CONFIGS, ROOT

CONFIG_FILES = sorted(CONFIGS.glob("*.yaml"))
SETTINGS = {
    "TranslationIngress": IngressSettings,
    "Translator": TranslatorSettings,
    "Postprocessor": PostprocessorSettings,
}


def load(path):
    return yaml.safe_load(path.read_text())


def deployments_of(config):
    (application,) = config["applications"]
    return {d["name"]: d for d in application["deployments"]}


def test_the_configs_ship():
    assert {p.name for p in CONFIG_FILES} >= {"local.yaml", "cpu.yaml", "gpu.yaml", "cpu-fast.yaml"}


# Settings that only the torch engine reads: a ctranslate2 config does not carry them.
TORCH_ONLY = ("dtype", "single_thread_max_texts")


def test_local_keeps_the_seeds_output_and_cpu_fast_differs_only_in_the_engine():
    local, fast = load(CONFIGS / "local.yaml"), load(CONFIGS / "cpu-fast.yaml")
    local_translator = deployments_of(local)["Translator"]["user_config"]
    fast_translator = deployments_of(fast)["Translator"]["user_config"]
    assert TranslatorSettings.model_validate(local_translator).engine == "torch"
    assert local_translator["dtype"] == "float32"
    settings = TranslatorSettings.model_validate(fast_translator)
    assert (settings.engine, settings.compute_type, settings.device) == (
        "ctranslate2",
        "int8",
        "cpu",
    )
    assert {
        k: v for k, v in fast_translator.items() if k not in ("engine", "compute_type", "batching")
    } == {k: v for k, v in local_translator.items() if k not in (*TORCH_ONLY, "batching")}
    local_batching = dict(local_translator["batching"])
    del local_batching["encoder_group_size"]  # torch's
    assert fast_translator["batching"] == local_batching
    for name in ("TranslationIngress", "Postprocessor"):
        assert deployments_of(fast)[name] == deployments_of(local)[name]


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_config_validates_against_serves_schema(path):
    ServeDeploySchema.model_validate(load(path))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_each_deployment_is_sized_on_its_own(path):
    config = load(path)
    assert config["applications"][0]["name"] == "translation"
    assert config["applications"][0]["import_path"] == "graph.app:app"
    deployments = deployments_of(config)
    assert set(deployments) == set(SETTINGS)
    for name, deployment in deployments.items():
        # ray_actor_options in a file replaces the code's dict whole: omitting num_cpus means 1.
        assert {"num_cpus", "num_gpus"} <= set(deployment["ray_actor_options"]), name
        assert "max_ongoing_requests" in deployment, name
        assert "num_replicas" in deployment or "autoscaling_config" in deployment, name
        SETTINGS[name].model_validate(deployment["user_config"])


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_the_ingress_can_hold_a_whole_batch(path):
    # Serve's default max_ongoing_requests of 5 would silently cap every batch at 5.
    ingress = deployments_of(load(path))["TranslationIngress"]
    assert ingress["max_ongoing_requests"] >= ingress["user_config"]["max_batch_size"]


def test_the_gpu_config_puts_only_the_translator_on_the_gpu():
    deployments = deployments_of(load(CONFIGS / "gpu.yaml"))
    assert deployments["Translator"]["ray_actor_options"]["num_gpus"] == 1
    assert deployments["Translator"]["user_config"]["dtype"] == "float16"
    assert deployments["TranslationIngress"]["ray_actor_options"]["num_gpus"] == 0
    assert deployments["Postprocessor"]["ray_actor_options"]["num_gpus"] == 0


def test_serve_build_gives_the_configs_structure(tmp_path):
    built = tmp_path / "built.yaml"
    subprocess.run(
        [sys.executable, "-m", "ray.serve.scripts", "build", "graph.app:app", "-o", str(built)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    config = load(built)
    ServeDeploySchema.model_validate(config)
    (application,) = config["applications"]
    assert application["import_path"] == "graph.app:app"
    for shipped in CONFIG_FILES:
        assert set(deployments_of(config)) == set(deployments_of(load(shipped))), shipped.name
    for name, deployment in deployments_of(config).items():
        SETTINGS[name].model_validate(deployment["user_config"])
        # The code's defaults must schedule on a 2-core machine: together under 2 CPUs.
        assert {"num_cpus", "num_gpus"} <= set(deployment["ray_actor_options"]), name
    total_cpus = sum(d["ray_actor_options"]["num_cpus"] for d in deployments_of(config).values())
    assert total_cpus < 2


@pytest.mark.parametrize("name", ["cpu.yaml", "gpu.yaml"])
def test_the_production_configs_log_json(name):
    # One JSON object per line (request_id, deployment, replica as fields) for log shippers.
    logging_config = load(CONFIGS / name)["logging_config"]
    assert logging_config["encoding"] == "JSON"
