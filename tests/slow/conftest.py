"""Slow tests: each module starts its own Ray cluster (two nodes, or one under load).

They cannot share tests/integration's instance: one process holds one Ray connection at a time.
That one is package-scoped and gone before these start; each fixture here is module-scoped and
shuts its cluster down before the next module starts its own, so plain `pytest` runs them all.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import ray
import requests
from ray import serve
from ray.cluster_utils import Cluster

from checkpoints.phrasebook import load_phrasebook
from deployments.text.typography import postprocess_segment
from graph.deploy import load_config
from tests.conftest import with_checkpoints

# Away from tests/integration's port (TEST_SERVE_PORT, default 8123) and the next few, which
# other checkouts' runs on the same machine may hold; one port per module.
_BASE = int(os.environ.get("TEST_SERVE_PORT", "8123"))
SLOW_PORT = int(os.environ.get("TEST_SLOW_SERVE_PORT", str(_BASE + 50)))

FRENCH = [p for p in load_phrasebook() if p.target == "fr"]


def served(phrase) -> str:
    """What the service answers for a phrase: the phrasebook's line, typeset."""
    return postprocess_segment(phrase.translation, phrase.target)


def no_ray_yet() -> None:
    assert not ray.is_initialized(), "another Ray connection is still open in this process"


def start_serve(port: int) -> None:
    serve.start(http_options={"host": "127.0.0.1", "port": port})


def stop_serve() -> None:
    serve.shutdown()
    ray.shutdown()


# Custom resources that place the deployments as the GPU manifest does: the ingress and the
# postprocessor on the head (FRONTEND), the Translator on model nodes (MODEL_NODE).
MODEL_NODE = "model_node"
FRONTEND = "frontend"
NODE_CPUS = 2


@contextmanager
def two_tier_cluster(model_nodes: int, model_node_units: int) -> Iterator[tuple[Cluster, list]]:
    """A ``ray.cluster_utils`` cluster, connected to: a head with FRONTEND and ``model_nodes``
    nodes with ``model_node_units`` of MODEL_NODE each. Yields the cluster and its model nodes."""
    no_ray_yet()
    with pytest.MonkeyPatch.context() as patch:
        # Cluster() records its address in /tmp/ray as "the current cluster", where a plain
        # `ray.init()` or `serve status` of anyone else on this machine would then connect.
        patch.setattr(ray._private.utils, "write_ray_address", lambda *args, **kwargs: None)
        cluster = Cluster(
            initialize_head=True,
            head_node_args={
                "num_cpus": NODE_CPUS,
                "resources": {FRONTEND: 2},
                "include_dashboard": False,
            },
        )
    workers = [
        cluster.add_node(num_cpus=NODE_CPUS, resources={MODEL_NODE: model_node_units})
        for _ in range(model_nodes)
    ]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster, workers
    finally:
        stop_serve()
        cluster.shutdown()


@pytest.fixture(scope="module")
def local_config(phrasebook_checkpoint) -> Callable[[int], dict]:
    """configs/local.yaml serving its first model (the T5 phrasebook) alone."""
    return lambda port: load_config(
        "local", model=str(phrasebook_checkpoint), port=port, first_model_only=True
    )


@pytest.fixture(scope="module")
def multi_model_config(phrasebook_checkpoints) -> Callable[[int], dict]:
    """configs/local.yaml as shipped: the three phrasebook checkpoints."""
    return lambda port: with_checkpoints(load_config("local", port=port), phrasebook_checkpoints)


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all (connection refused, reset, timeout)
    correct: bool
    detail: str


class SteadyLoad:
    """Clients that send /translate back to back, each waiting for its answer, until stopped."""

    def __init__(self, base_url: str, phrases, clients: int = 6) -> None:
        self._url = f"{base_url}/translate"
        self._phrases = phrases
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []
        self._threads = [
            threading.Thread(target=self._client, args=(n, clients), daemon=True)
            for n in range(clients)
        ]

    def __enter__(self) -> "SteadyLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _client(self, number: int, clients: int) -> None:
        session = requests.Session()
        turn = number
        while not self._stop.is_set():
            # Alternately one text and a list of three: both paths through the batches.
            count = 1 if turn % 2 else 3
            chosen = [self._phrases[(turn + k) % len(self._phrases)] for k in range(count)]
            payload = {"text": chosen[0].text if count == 1 else [p.text for p in chosen]}
            expected = served(chosen[0]) if count == 1 else [served(p) for p in chosen]
            started = time.monotonic()
            try:
                response = session.post(self._url, json=payload, timeout=60)
                status, text = response.status_code, response.text
                correct = status == 200 and response.json() == {"translation": expected}
            except requests.RequestException as error:
                status, text, correct = None, repr(error), False
            outcome = Outcome(started, time.monotonic(), status, correct, text[:200])
            with self._lock:
                self.outcomes.append(outcome)
            turn += clients

    def during(self, start: float, end: float) -> list[Outcome]:
        """The requests in flight at some moment between ``start`` and ``end``."""
        with self._lock:
            return [o for o in self.outcomes if o.started < end and o.ended > start]

    def failures(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if not o.correct]
