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
    local_models = TranslatorSettings.model_validate(local_translator).models
    fast_models = TranslatorSettings.model_validate(fast_translator).models
    assert {(m.engine, m.dtype) for m in local_models} == {("torch", "float32")}
    assert {(m.engine, m.compute_type, m.device) for m in fast_models} == {
        ("ctranslate2", "int8", "cpu")
    }
    engine_keys = ("engine", "compute_type", "dtype")
    assert [m.model_dump(exclude=set(engine_keys)) for m in fast_models] == [
        m.model_dump(exclude=set(engine_keys)) for m in local_models
    ]
    outside = ("models", "batching", *TORCH_ONLY)
    assert {k: v for k, v in fast_translator.items() if k not in outside} == {
        k: v for k, v in local_translator.items() if k not in outside
    }
    local_batching = dict(local_translator["batching"])
    del local_batching["encoder_group_size"]  # torch's
    assert fast_translator["batching"] == local_batching
    for name in ("TranslationIngress", "Postprocessor"):
        assert deployments_of(fast)[name] == deployments_of(local)[name]


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_the_production_configs_show_a_hub_checkpoint_of_each_family(name):
    translator = deployments_of(load(CONFIGS / f"{name}.yaml"))["Translator"]["user_config"]
    models = TranslatorSettings.model_validate(translator).models
    assert [m.model for m in models] == [
        "t5-small",
        "Helsinki-NLP/opus-mt-fr-en",
        "facebook/nllb-200-distilled-600M",
    ]
    assert (models[1].source, models[1].target) == ("fr", "en")  # Marian: the pair from here


def test_the_offline_demo_serves_three_families_two_at_a_time():
    local = deployments_of(load(CONFIGS / "local.yaml"))["Translator"]["user_config"]
    settings = TranslatorSettings.model_validate(local)
    assert settings.max_models_per_replica == 2 < len(settings.models) == 3
    assert [m.model for m in settings.models] == [
        "build/phrasebook-t5",
        "build/phrasebook-marian",
        "build/phrasebook-m2m100",
    ]


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
    models = TranslatorSettings.model_validate(deployments["Translator"]["user_config"]).models
    assert {(m.device, m.dtype) for m in models} == {("cuda", "float16")}
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
