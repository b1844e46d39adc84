"""The KubeRay manifests: generated from the Serve configs, in sync, and valid RayServices."""

import copy
import re
import tomllib

import pytest
import ray
import yaml
from ray.serve.schema import ServeDeploySchema

from graph import kuberay
from graph.cluster import RAY_ENV
from tests import k8s_schema
from tests.paths import CONFIGS, RAYSERVICE_CRD, ROOT

NAMES = ("cpu", "gpu")
# metadata is left to the API server by the CRD; this is its rule for object names.
DNS_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def committed(name: str) -> dict:
    return yaml.safe_load(kuberay.manifest_path(name).read_text())


def embedded_serve_config(manifest: dict) -> dict:
    serve_config = manifest["spec"]["serveConfigV2"]
    assert isinstance(serve_config, str), "serveConfigV2 is a YAML string, not a mapping"
    return yaml.safe_load(serve_config)


def deployments(serve_config: dict) -> dict[str, dict]:
    (application,) = serve_config["applications"]
    return {d["name"]: d for d in application["deployments"]}


def containers(group: dict) -> list[dict]:
    return group["template"]["spec"]["containers"]


# --- in sync with their sources -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_manifest_is_what_the_generator_writes(name):
    path = kuberay.manifest_path(name)
    assert path.exists(), f"{path} is missing: run `make kuberay`"
    assert path.read_text() == kuberay.render(name), f"{path.name} is stale: run `make kuberay`"


def test_the_cpu_manifest_embeds_cpu_yaml_unchanged():
    shipped = yaml.safe_load((CONFIGS / "cpu.yaml").read_text())
    assert embedded_serve_config(committed("cpu")) == shipped


def test_the_gpu_manifest_embeds_gpu_yaml_with_only_the_translator_pinned():
    shipped = yaml.safe_load((CONFIGS / "gpu.yaml").read_text())
    embedded = embedded_serve_config(committed("gpu"))
    translator = deployments(embedded)["Translator"]["ray_actor_options"]
    assert translator.pop("resources") == {kuberay.GPU_NODE_RESOURCE: 1}
    assert embedded == shipped


def test_a_changed_serve_config_is_caught(monkeypatch, tmp_path):
    (tmp_path / "kuberay").mkdir()
    for name in NAMES:
        text = (CONFIGS / f"{name}.yaml").read_text()
        (tmp_path / f"{name}.yaml").write_text(text)
        (tmp_path / "kuberay" / f"rayservice-{name}.yaml").write_text(
            kuberay.manifest_path(name).read_text()
        )
    monkeypatch.setattr(kuberay, "CONFIGS", tmp_path)
    monkeypatch.setattr(kuberay, "OUTPUT", tmp_path / "kuberay")
    monkeypatch.setattr(kuberay, "ROOT", tmp_path)
    assert kuberay.main(["--check"]) == 0
    cpu = tmp_path / "cpu.yaml"
    cpu.write_text(cpu.read_text().replace("max_batch_size: 32", "max_batch_size: 16", 1))
    assert kuberay.main(["--check"]) == 1
    assert kuberay.main([]) == 0  # regenerates
    assert kuberay.main(["--check"]) == 0
    regenerated = yaml.safe_load((tmp_path / "kuberay" / "rayservice-cpu.yaml").read_text())
    ingress = deployments(embedded_serve_config(regenerated))["TranslationIngress"]
    assert ingress["user_config"]["max_batch_size"] == 16


# --- what they deploy -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_embedded_serve_config_is_a_valid_production_config(name):
    serve_config = embedded_serve_config(committed(name))
    ServeDeploySchema.model_validate(serve_config)
    assert serve_config["logging_config"]["encoding"] == "JSON"
    assert serve_config["http_options"] == {"host": "0.0.0.0", "port": kuberay.SERVE_PORT}


@pytest.mark.parametrize("name", NAMES)
def test_ray_version_and_image_match_the_project(name):
    manifest = committed(name)
    cluster = manifest["spec"]["rayClusterConfig"]
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"ray[serve]=={cluster['rayVersion']}" in pinned
    assert cluster["rayVersion"] == ray.__version__
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        for container in containers(group):
            assert container["image"].startswith(f"{kuberay.IMAGE}-"), container["name"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"rayproject/ray:{cluster['rayVersion']}-py311" in dockerfile
    assert DNS_1123_SUBDOMAIN.fullmatch(manifest["metadata"]["name"])


@pytest.mark.parametrize("name", NAMES)
def test_every_pod_serves_http_and_the_head_the_dashboard(name):
    cluster = committed(name)["spec"]["rayClusterConfig"]
    (head,) = containers(cluster["headGroupSpec"])
    head_ports = {p["name"]: p["containerPort"] for p in head["ports"]}
    assert head_ports["serve"] == kuberay.SERVE_PORT
    assert head_ports["dashboard"] == kuberay.DASHBOARD_PORT
    assert cluster["headGroupSpec"]["rayStartParams"]["dashboard-host"] == "0.0.0.0"
    for group in cluster["workerGroupSpecs"]:  # proxy_location: EveryNode
        ports = {p["name"]: p["containerPort"] for p in containers(group)[0]["ports"]}
        assert ports["serve"] == kuberay.SERVE_PORT


@pytest.mark.parametrize("name", NAMES)
def test_every_pod_starts_ray_with_the_graphs_cluster_settings(name):
    cluster = committed(name)["spec"]["rayClusterConfig"]
    for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
        for container in containers(group):
            env = {e["name"]: e["value"] for e in container.get("env", [])}
            assert env["RAY_worker_niceness"] == "0", container["name"]
            assert env.items() >= RAY_ENV.items()


def test_the_gpu_cluster_pins_the_translator_to_its_gpu_worker_group():
    manifest = committed("gpu")
    cluster = manifest["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]
    assert head["rayStartParams"]["num-gpus"] == "0"
    assert all("nvidia.com/gpu" not in c["resources"]["limits"] for c in containers(head))
    (worker,) = cluster["workerGroupSpecs"]
    assert containers(worker)[0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    offered = kuberay.parse_ray_start_resources(worker["rayStartParams"]["resources"])
    assert offered == {kuberay.GPU_NODE_RESOURCE: 1}

    by_name = deployments(embedded_serve_config(manifest))
    translator = by_name.pop("Translator")["ray_actor_options"]
    assert translator["num_gpus"] == 1
    assert translator["resources"] == {kuberay.GPU_NODE_RESOURCE: 1}
    assert translator["num_cpus"] <= float(worker["rayStartParams"]["num-cpus"])
    # The rest run on the head, which has the CPUs for them and no GPU.
    for deployment in by_name.values():
        assert deployment["ray_actor_options"]["num_gpus"] == 0
        assert "resources" not in deployment["ray_actor_options"]
    head_cpus = float(head["rayStartParams"]["num-cpus"])
    assert sum(d["ray_actor_options"]["num_cpus"] for d in by_name.values()) <= head_cpus


def test_the_cpu_cluster_can_grow_to_the_translators_max_replicas():
    manifest = committed("cpu")
    cluster = manifest["spec"]["rayClusterConfig"]
    by_name = deployments(embedded_serve_config(manifest))
    translator = by_name.pop("Translator")
    (worker,) = cluster["workerGroupSpecs"]
    worker_cpus = float(containers(worker)[0]["resources"]["limits"]["cpu"])
    assert cluster["enableInTreeAutoscaling"] is True
    assert translator["ray_actor_options"]["num_cpus"] <= worker_cpus
    assert worker["maxReplicas"] >= translator["autoscaling_config"]["max_replicas"]
    head_cpus = float(cluster["headGroupSpec"]["rayStartParams"]["num-cpus"])
    assert sum(d["ray_actor_options"]["num_cpus"] for d in by_name.values()) <= head_cpus


def test_ray_start_resources_round_trips():
    value = kuberay.ray_start_resources({"a": 1, "b": 0.5})
    assert value == '"{\\"a\\": 1, \\"b\\": 0.5}"'
    assert kuberay.parse_ray_start_resources(value) == {"a": 1, "b": 0.5}


# --- valid against the RayService CRD ---------------------------------------------------------


@pytest.fixture(scope="module")
def crd_schema():
    if not RAYSERVICE_CRD.exists():
        pytest.skip(f"the RayService CRD is not here: {RAYSERVICE_CRD} (shared/ beside the repo)")
    return k8s_schema.crd_schema(RAYSERVICE_CRD)


@pytest.fixture(scope="module")
def validator(crd_schema):
    return k8s_schema.validator_for(crd_schema)


@pytest.mark.parametrize("name", NAMES)
def test_the_manifest_is_a_valid_rayservice(validator, name):
    manifest = committed(name)
    assert manifest["apiVersion"] == "ray.io/v1"
    assert manifest["kind"] == "RayService"
    assert k8s_schema.errors(validator, manifest) == []


@pytest.mark.parametrize("name", NAMES)
def test_the_manifest_sets_no_field_with_a_cel_rule(crd_schema, name):
    # CEL rules (x-kubernetes-validations) are not evaluated offline; none may apply here.
    def present(node, path):
        if not path:
            return True
        head, *rest = path
        if head == "[]":
            return isinstance(node, list) and any(present(item, rest) for item in node)
        if head == "*":
            return isinstance(node, dict) and any(present(v, rest) for v in node.values())
        return isinstance(node, dict) and head in node and present(node[head], rest)

    paths = list(k8s_schema.cel_paths(crd_schema))
    assert paths  # the CRD has some (managedBy, ...), so this test means something
    manifest = committed(name)
    assert [p for p in paths if present(manifest, p)] == []


def _worker(manifest):
    return manifest["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]


def _head(manifest):
    return manifest["spec"]["rayClusterConfig"]["headGroupSpec"]


BROKEN = {
    # (what is wrong, how to break it, where the error must point)
    "missing required groupName": (lambda m: _worker(m).pop("groupName"), "workerGroupSpecs.0"),
    "misspelt field": (
        lambda m: _head(m).__setitem__("rayStartParam", _head(m).pop("rayStartParams")),
        "headGroupSpec",
    ),
    "rayStartParams value not a string": (
        lambda m: _head(m)["rayStartParams"].__setitem__("num-cpus", 1),
        "rayStartParams.num-cpus",
    ),
    "int32 overflow": (lambda m: _worker(m).__setitem__("maxReplicas", 2**31), "maxReplicas"),
    "int-or-string that is neither": (
        lambda m: containers(_worker(m))[0]["resources"]["limits"].__setitem__("cpu", 4.5),
        "limits.cpu",
    ),
    "quantity string that is no quantity": (
        lambda m: containers(_worker(m))[0]["resources"]["limits"].__setitem__("memory", "lots"),
        "limits.memory",
    ),
    "duplicate list-map key": (
        lambda m: containers(_head(m))[0]["ports"].append({"containerPort": 8000, "name": "x"}),
        "ports",
    ),
    "serveConfigV2 as a mapping": (
        lambda m: m["spec"].__setitem__("serveConfigV2", {"applications": []}),
        "spec.serveConfigV2",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_manifest_is_rejected(validator, case):
    breaks, where = BROKEN[case]
    manifest = copy.deepcopy(committed("gpu"))
    breaks(manifest)
    found = k8s_schema.errors(validator, manifest)
    assert found, f"{case}: accepted"
    assert any(where in error.split(":")[0] for error in found), found


def test_int_or_string_without_anyof_still_means_int_or_string():
    schema = {"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": True}}}
    validator = k8s_schema.validator_for(schema)
    assert k8s_schema.errors(validator, {"port": 8000}) == []
    assert k8s_schema.errors(validator, {"port": "http"}) == []
    assert k8s_schema.errors(validator, {"port": [8000]}) != []
    assert k8s_schema.errors(validator, {"other": 1}) != []  # unknown field
