"""Autoscaling on three Ray nodes: a load ramp over HTTP adds Translator replicas (on both model
nodes), removing it takes them away again, and no request fails or comes back wrong throughout.

The Translator runs configs/cpu.yaml's autoscaling policy (min 1, max N, a target of ongoing
requests per replica) scaled to this machine: 1-CPU replicas that fit two 2-CPU model nodes,
max 3, and delays of seconds instead of Serve's defaults (30 s up, 600 s down). The replica count
is sampled every 0.5 s; the timeline is logged (``--log-cli-level=INFO``, or ``-s``), and
docs/operations.md ("Autoscaling, observed") shows one run's.
"""

import contextlib
import copy
import logging
import threading
import time
from dataclasses import dataclass

import pytest
from ray.serve._private.common import ReplicaState

from graph.deploy import deploy, deployment_of, load_config, replicas
from tests.conftest import without_memory
from tests.slow.conftest import (
    FRENCH,
    FRONTEND,
    MODEL_NODE,
    NODE_CPUS,
    SLOW_PORT,
    SteadyLoad,
    start_serve,
    two_tier_cluster,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

logger = logging.getLogger(__name__)

PORT = SLOW_PORT + 2
TRANSLATOR_CPUS = 1
MAX_REPLICAS = 3  # more than one model node holds: scaling out crosses nodes
# Seconds, for a test; cpu.yaml keeps Serve's defaults (30 s up, 600 s down, metrics every 10 s).
FAST_POLICY = {
    "upscale_delay_s": 2.0,
    "downscale_delay_s": 6.0,
    "look_back_period_s": 2.0,
    "metrics_interval_s": 0.5,
}
BASELINE_CLIENTS = 1  # stays on throughout: requests are in flight while replicas go
RAMP = [3, 3, 3, 3]  # clients added every RAMP_STEP_S on top of the baseline
RAMP_STEP_S = 3.0
HOLD_AT_MAX_S = 5.0
SCALE_TIMEOUT_S = 75.0
SAMPLE_EVERY_S = 0.5


def autoscaled_config(phrasebook_checkpoint) -> dict:
    """configs/local.yaml (HTTP on the head only, the phrasebook), with the Translator sized
    and autoscaled as configs/cpu.yaml does it, scaled down to fit the fake nodes."""
    config = load_config(
        "local", model=str(phrasebook_checkpoint), port=PORT, first_model_only=True
    )
    cpu = deployment_of(load_config("cpu"), "Translator")
    policy = copy.deepcopy(cpu["autoscaling_config"])
    assert policy["min_replicas"] == 1 and policy["max_replicas"] > 1, policy
    # cpu.yaml: a target of 4 ongoing batches for a 4-CPU replica, 1 per CPU; so 1 here. A lone
    # closed-loop client keeps at most one batch at the Translator, less while it postprocesses.
    ratio = TRANSLATOR_CPUS / cpu["ray_actor_options"]["num_cpus"]
    policy["target_ongoing_requests"] = policy["target_ongoing_requests"] * ratio
    policy["max_replicas"] = MAX_REPLICAS
    policy.update(FAST_POLICY)
    translator = deployment_of(config, "Translator")
    del translator["num_replicas"]
    translator["autoscaling_config"] = policy
    translator["ray_actor_options"] = {
        "num_cpus": TRANSLATOR_CPUS,
        "num_gpus": 0,
        "resources": {MODEL_NODE: 1},
    }
    translator["user_config"]["threads"] = TRANSLATOR_CPUS
    for name in ("TranslationIngress", "Postprocessor"):
        deployment_of(config, name)["ray_actor_options"]["resources"] = {FRONTEND: 1}
    # The load repeats its sentences: answered from memory, it would not need more replicas.
    return without_memory(config)


@pytest.fixture(scope="module")
def cluster():
    with two_tier_cluster(model_nodes=2, model_node_units=NODE_CPUS) as (cluster, workers):
        yield cluster, workers


@pytest.fixture(scope="module")
def graph(cluster, phrasebook_checkpoint) -> dict:
    config = autoscaled_config(phrasebook_checkpoint)
    start_serve(PORT)
    deploy(config, timeout_s=300)
    return config


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the load started
    clients: int
    running: int  # Translator replicas RUNNING
    starting: int
    stopping: int
    nodes: int  # model nodes with a RUNNING Translator
    answered: int  # requests answered so far


class Timeline:
    """The Translator's replicas, sampled every SAMPLE_EVERY_S from the Serve controller."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.clients = 0
        self.loads: list[SteadyLoad] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "Timeline":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _poll(self) -> None:
        while not self._stop.is_set():
            found = replicas()["Translator"]
            states = [r.state for r in found]
            sample = Sample(
                t=round(time.monotonic() - self._started, 1),
                clients=self.clients,
                running=states.count(ReplicaState.RUNNING),
                starting=states.count(ReplicaState.STARTING),
                stopping=states.count(ReplicaState.STOPPING),
                nodes=len({r.node_id for r in found if r.state == ReplicaState.RUNNING}),
                answered=sum(len(load.outcomes) for load in list(self.loads)),
            )
            self.samples.append(sample)
            logger.info("replicas %s", sample)
            self._stop.wait(SAMPLE_EVERY_S)

    def running(self) -> int:
        return self.samples[-1].running if self.samples else 0

    def wait_for(self, condition, timeout_s: float, what: str) -> float:
        deadline = time.monotonic() + timeout_s
        while not (self.samples and condition(self.samples[-1])):
            assert time.monotonic() < deadline, f"no {what} after {timeout_s} s: {self.table()}"
            time.sleep(SAMPLE_EVERY_S / 2)
        return self.samples[-1].t

    def table(self) -> str:
        """One row per change of clients or replicas, with the answers per second since the
        row before: the observed timeline."""
        rows = ["| t (s) | clients | Translator replicas running | starting | stopping | "
                "model nodes | answers/s since previous row |",
                "|---|---|---|---|---|---|---|"]  # fmt: skip
        previous = None
        for sample in self.samples:
            key = (sample.clients, sample.running, sample.starting, sample.stopping)
            if previous is not None and key == previous[0]:
                continue
            rate = ""
            if previous is not None and sample.t > previous[1].t:
                rate = (
                    f"{(sample.answered - previous[1].answered) / (sample.t - previous[1].t):.1f}"
                )
            rows.append(
                f"| {sample.t:.1f} | {sample.clients} | {sample.running} | {sample.starting} | "
                f"{sample.stopping} | {sample.nodes} | {rate} |"
            )
            previous = (key, sample)
        return "\n".join(rows)


def test_a_load_ramp_adds_translator_replicas_and_its_end_removes_them(cluster, graph):
    _, workers = cluster
    base_url = f"http://127.0.0.1:{PORT}"
    policy = deployment_of(graph, "Translator")["autoscaling_config"]
    assert len(replicas()["Translator"]) == policy["min_replicas"] == 1
    phrases = FRENCH[:48]
    started = time.monotonic()
    with Timeline() as timeline, contextlib.ExitStack() as baseline:
        timeline.wait_for(lambda s: s.running == 1, 30, "first sample")
        timeline.loads.append(baseline.enter_context(SteadyLoad(base_url, phrases, 1)))
        timeline.clients = BASELINE_CLIENTS
        time.sleep(RAMP_STEP_S)
        with contextlib.ExitStack() as ramp:
            for added in RAMP:
                load = ramp.enter_context(SteadyLoad(base_url, phrases, added))
                timeline.loads.append(load)
                timeline.clients += added
                time.sleep(RAMP_STEP_S)
            at_max = timeline.wait_for(
                lambda s: s.running == MAX_REPLICAS, SCALE_TIMEOUT_S, "scale-up"
            )
            time.sleep(HOLD_AT_MAX_S)
            timeline.clients = BASELINE_CLIENTS
        load_removed = time.monotonic() - started
        back = timeline.wait_for(
            lambda s: s.running == 1 and s.starting == s.stopping == 0,
            SCALE_TIMEOUT_S,
            "scale-down",
        )
        time.sleep(2)
        timeline.clients = 0
    outcomes = [o for load in timeline.loads for o in load.outcomes]
    table = timeline.table()
    logger.info(
        "autoscaling timeline (max at %.1f s, load removed at %.1f s, back to 1 at %.1f s; "
        "%d requests):\n%s",
        at_max,
        load_removed,
        back,
        len(outcomes),
        table,
    )
    print(f"\n{table}\n{len(outcomes)} requests")  # noqa: T201

    failures = [o for o in outcomes if not o.correct]
    assert failures == [], f"{len(failures)} of {len(outcomes)} failed: {failures[:5]}"
    assert len(outcomes) >= 100, len(outcomes)
    # Scaled out across both model nodes, and back to the minimum.
    assert max(s.running for s in timeline.samples) == MAX_REPLICAS
    assert max(s.nodes for s in timeline.samples) == len(workers)
    final = replicas()
    assert [r.state for r in final["Translator"]] == [ReplicaState.RUNNING]
    assert len(final["TranslationIngress"]) == len(final["Postprocessor"]) == 1
