"""Faults: one bad text fails only its own request; a replica process killed under load costs
no hung or lost request, and the graph answers again within 45 s."""

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import ray
import requests

from tests.integration.client import SEPARABLE, error_of, served

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)  # the figures: pytest --log-cli-level=INFO

DEADLINE_S = 20
RECOVERY_BAR_S = 45


def test_one_bad_text_fails_only_its_own_request(base_url):
    """Good and bad requests at once, batched together at the Translator."""
    good = SEPARABLE[:24]

    def send(payload):
        return requests.post(f"{base_url}/translate", json=payload, timeout=60)

    payloads = [{"text": p.text} for p in good]
    payloads[::4] = [{"text": "Hello world!", "target": "xx"}] * len(payloads[::4])
    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        responses = list(pool.map(send, payloads))
    for payload, phrase, response in zip(payloads, good, responses, strict=True):
        if payload.get("target") == "xx":
            assert error_of(response, 422)["code"] == "unsupported_target"
        else:
            assert response.json() == {"translation": served(phrase)}


def replica_actor(deployment: str):
    (name,) = [
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith(f"SERVE_REPLICA::translation#{deployment}#")
    ]
    return name, ray.get_actor(name, namespace="serve")


def kill_process_of(deployment: str) -> str:
    """SIGKILL the replica's worker process, as the OOM killer would; returns its actor name."""
    name, actor = replica_actor(deployment)
    pid = ray.get(actor.__ray_call__.remote(lambda _: os.getpid()))
    os.kill(pid, signal.SIGKILL)
    return name


class Load:
    """Clients sending one phrase each, back to back, recording every answer."""

    def __init__(self, base_url: str, clients: int = 8) -> None:
        self.base_url = base_url
        self.results: list[tuple[float, float, int, dict, str]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]

    def _client(self, n: int) -> None:
        with requests.Session() as session:
            k = n
            while not self.stop.is_set():
                phrase = SEPARABLE[k % len(SEPARABLE)]
                k += len(self.threads)
                started = time.monotonic()
                response = session.post(
                    f"{self.base_url}/translate",
                    json={"text": phrase.text},
                    headers={"X-Request-Timeout": str(DEADLINE_S)},
                    timeout=DEADLINE_S + 30,
                )
                self.results.append(
                    (
                        started,
                        time.monotonic(),
                        response.status_code,
                        response.json(),
                        served(phrase),
                    )
                )

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.mark.slow
@pytest.mark.parametrize("deployment", ["Translator", "Postprocessor"])
def test_a_replica_killed_under_load_loses_nothing_and_recovers(http, base_url, deployment):
    health: list[tuple[float, int]] = []
    with Load(base_url) as load:
        time.sleep(3)
        killed_name = kill_process_of(deployment)
        killed_at = time.monotonic()
        while time.monotonic() - killed_at < RECOVERY_BAR_S + 15:
            health.append(
                (time.monotonic(), http.get(f"{base_url}/health", timeout=10).status_code)
            )
            recovered = [r for r in load.results if r[0] > killed_at and r[2] == 200]
            if recovered and health[-1][1] == 200 and time.monotonic() - killed_at > 5:
                break
            time.sleep(0.25)
        time.sleep(2)
    results = load.results
    after = [r for r in results if r[1] > killed_at]
    first_ok = min((r[1] for r in results if r[0] > killed_at and r[2] == 200), default=None)
    recovery_s = None if first_ok is None else first_ok - killed_at
    statuses = {}
    for r in after:
        statuses[r[2]] = statuses.get(r[2], 0) + 1
    logger.info(
        f"{deployment} killed: {len(results)} requests, after the kill {statuses}; answering again"
        f" after {recovery_s} s; slowest {max(r[1] - r[0] for r in results):.1f} s;"
        f" health 503 seen {sum(1 for _, s in health if s == 503)} times"
    )
    for started, ended, status, body, expected in results:
        assert ended - started < DEADLINE_S + 5, "a request hung past its deadline"
        if status == 200:
            assert body == {"translation": expected}
        else:  # told to come back, never left to time out: nothing lost
            assert status == 503, body
            assert body["error"]["code"] in {"unavailable", "overloaded"}
            assert body["error"]["retry_after_s"] >= 1
    assert recovery_s is not None and recovery_s <= RECOVERY_BAR_S
    if recovery_s > 5:  # an outage shorter than /health's 2 s probe can pass unseen
        assert any(status == 503 for _, status in health), "/health never said it was down"
    assert health[-1][1] == 200
    assert replica_actor(deployment)[0] != killed_name  # Serve started a new replica
