"""Per-request deadlines: 504 when one passes, and expired work never reaches the model."""

import asyncio
import threading
import time

import aiohttp
import pytest
import requests

from deployments.core.errors import DeadlineExceeded
from tests.integration.client import FRENCH, error_of
from tests.integration.redeploy import ingress_changed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def no_wait_bound(graph, graph_config):
    """These tests queue more work than max_queue_wait_s admits: the deadlines are the point."""
    with ingress_changed(graph_config, max_queue_wait_s=None):
        yield


# About 1,200 sentences each: seconds of model time on the phrasebook checkpoint. Two of them
# (120 texts, under the ingress's 128 in flight with room for the probes) make four model calls.
BIG_REQUEST = {"text": [" ".join(p.text for p in FRENCH[k : k + 20]) for k in range(60)]}
BIG_REQUESTS = 2


def texts_run(http, base_url) -> int:
    """How many texts the model has translated so far."""
    return http.get(f"{base_url}/info", timeout=30).json()["served"]["texts"]


def keep_the_model_busy(http, base_url) -> list[threading.Thread]:
    """Start the big requests in the background; return once the model is working on them with
    a full batch (32 texts, 640 sentences: seconds of work) still queued, so whatever comes next
    waits at least that long, and cannot be merged into the next call. Four calls' worth, so
    that a poll answered only as a call ends still finds work queued behind the next."""
    threads = [
        threading.Thread(
            target=requests.post, args=(f"{base_url}/translate",), kwargs={"json": BIG_REQUEST}
        )
        for _ in range(BIG_REQUESTS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while http.get(f"{base_url}/info", timeout=30).json()["served"]["queued_texts"] < 32:
        if time.monotonic() > deadline or not any(t.is_alive() for t in threads):
            pytest.fail("the model never had a full batch queued behind its current call")
        time.sleep(0.02)
    return threads


def finish(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()


def test_a_tiny_deadline_gets_a_504(http, base_url):
    response = http.post(
        f"{base_url}/translate",
        json={"text": "Hello world!"},
        headers={"X-Request-Timeout": "0.001"},
        timeout=10,
    )
    error = error_of(response, 504)
    assert error["code"] == "deadline_exceeded"
    assert error["timeout_s"] == 0.001


@pytest.mark.parametrize("value", ["soon", "0", "-3", "1e9"])
def test_a_bad_deadline_header_is_a_422_naming_the_allowed_range(http, base_url, value):
    response = http.post(
        f"{base_url}/translate",
        json={"text": "Hello world!"},
        headers={"X-Request-Timeout": value},
        timeout=10,
    )
    assert "X-Request-Timeout" in error_of(response, 422)["message"]


def test_a_generous_deadline_changes_nothing(http, base_url):
    response = http.post(
        f"{base_url}/?text=Hello%20world!", headers={"X-Request-Timeout": "120"}, timeout=60
    )
    assert response.status_code == 200


def test_handle_callers_have_a_deadline_too(graph):
    with pytest.raises(DeadlineExceeded):
        graph.translate.remote("Hello world!", timeout_s=0.001).result()
    assert graph.translate.remote("Hello world!", timeout_s=60).result()


# Far shorter than the full batch queued ahead of them (about 0.5 s of model time even on an
# idle machine, seconds on a loaded one), so they expire or give up before the model is free.
SHORT_S = 0.05


def test_requests_that_expire_in_the_queue_are_dropped_unrun(http, base_url):
    before = texts_run(http, base_url)
    busy = keep_the_model_busy(http, base_url)

    async def expire():
        async with aiohttp.ClientSession() as session:

            async def one(phrase):
                started = time.monotonic()
                async with session.post(
                    f"{base_url}/translate",
                    json={"text": phrase.text},
                    headers={"X-Request-Timeout": str(SHORT_S)},
                ) as response:
                    return response.status, await response.json(), time.monotonic() - started

            return await asyncio.gather(*(one(phrase) for phrase in FRENCH[:5]))

    answers = asyncio.run(expire())
    finish(busy)
    for status, body, waited in answers:
        # 504 at its deadline, or 503 at once where admission already saw that the wait
        # ahead was longer than the deadline; never an answer when the model got round to it.
        assert (status, body["error"]["code"]) in {
            (504, "deadline_exceeded"),
            (503, "overloaded"),
        }
        assert waited < 3
    # Dropped before the model, wherever they were waiting (the Translator's queue, or Serve's
    # router when cancelled before it assigned them): only the big request's texts ran.
    assert texts_run(http, base_url) - before == BIG_REQUESTS * len(BIG_REQUEST["text"])


def test_work_whose_client_has_gone_is_dropped_unrun(http, base_url):
    before = texts_run(http, base_url)
    busy = keep_the_model_busy(http, base_url)

    async def give_up_early():
        timeout = aiohttp.ClientTimeout(total=SHORT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def one(phrase):
                with pytest.raises(asyncio.TimeoutError):
                    async with session.post(
                        f"{base_url}/translate", json={"text": phrase.text}
                    ) as response:
                        await response.read()

            await asyncio.gather(*(one(phrase) for phrase in FRENCH[5:10]))

    asyncio.run(give_up_early())
    finish(busy)
    assert texts_run(http, base_url) - before == BIG_REQUESTS * len(BIG_REQUEST["text"])
