"""Load-driver statistics and drivers, against fake senders: no server, no Ray."""

import asyncio
import json
import random

import aiohttp
import pytest
from aiohttp import web

from benchmarks.load import (
    Outcome,
    RequestFailed,
    closed_loop,
    error_kind,
    handle_sender,
    http_sender,
    median_ci,
    open_loop,
    percentile,
    poisson_arrivals,
    summarize,
)
from tests.fixtures.loopback import serving


@pytest.mark.parametrize(
    ("q", "expected"), [(0, 1.0), (50, 50.5), (95, 95.05), (99, 99.01), (100, 100.0)]
)
def test_percentile_interpolates_between_ranks_like_numpy(q, expected):
    assert percentile([float(v) for v in range(100, 0, -1)], q) == pytest.approx(expected)


def test_percentile_of_one_value_and_of_nothing():
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 25) == pytest.approx(1.75)
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize_counts_errors_apart_and_divides_by_the_wall_clock():
    outcomes = [
        Outcome(0.3),
        Outcome(0.1),
        Outcome(5.0, "timeout", "took too long"),
        Outcome(0.2),
        Outcome(0.01, "http_503", "first busy"),
        Outcome(0.02, "http_503", "second busy"),
    ]
    result = summarize("closed", outcomes, wall_s=2.0, concurrency=4)
    assert result.issued == 6
    assert result.completed == 3
    assert result.errors == {"http_503": 2, "timeout": 1}
    assert result.error_examples == {"http_503": "first busy", "timeout": "took too long"}
    # Completed over wall clock: not issued over wall clock, not 1 / mean latency.
    assert result.throughput == pytest.approx(1.5)
    assert result.p50_ms == pytest.approx(200)
    assert result.mean_ms == pytest.approx(200)
    assert result.p99_ms == pytest.approx(298)
    assert result.concurrency == 4
    assert json.loads(json.dumps(result.to_dict()))["errors"] == {"http_503": 2, "timeout": 1}


def test_summarize_with_no_success_has_no_latencies():
    result = summarize("open", [Outcome(1.0, "http_500")], wall_s=0.0, rate=2.0)
    assert result.completed == 0
    assert result.throughput == 0.0
    assert result.p50_ms is None
    assert result.mean_ms is None
    assert "http_500 1" in result.summary()


def test_poisson_arrivals_are_seeded_ordered_and_at_the_rate():
    arrivals = poisson_arrivals(50, 100, random.Random(1))
    assert arrivals == poisson_arrivals(50, 100, random.Random(1))
    assert arrivals == sorted(arrivals)
    assert arrivals[0] > 0
    assert arrivals[-1] < 100
    assert len(arrivals) == pytest.approx(5000, rel=0.05)
    with pytest.raises(ValueError):
        poisson_arrivals(0, 10, random.Random(1))


def test_error_kinds():
    assert error_kind(RequestFailed("http_503")) == "http_503"
    assert error_kind(TimeoutError()) == "timeout"
    assert error_kind(aiohttp.ServerTimeoutError("slow")) == "timeout"
    assert error_kind(ConnectionRefusedError()) == "ConnectionRefusedError"


class FakeService:
    """Answers after a short sleep; fails texts that start with "bad"; records concurrency."""

    def __init__(self, delay_s: float = 0.002) -> None:
        self.delay_s = delay_s
        self.sent: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, text: str) -> str:
        self.sent.append(text)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        if text.startswith("bad"):
            raise RequestFailed("http_500")
        return text.upper()


def test_closed_loop_counts_only_measured_requests_and_keeps_the_concurrency():
    service = FakeService()
    texts = ["a", "b", "bad", "c"]
    result = asyncio.run(
        closed_loop(
            service.send, texts, concurrency=3, requests=20, warmup_requests=6, progress=False
        )
    )
    assert len(service.sent) == 26
    assert result.issued == 20
    assert result.completed == 15
    assert result.errors == {"http_500": 5}
    assert service.most_in_flight == 3
    assert result.throughput == pytest.approx(result.completed / result.wall_s)


def test_a_closed_loop_follows_each_clients_own_sequence():
    sent: list[tuple[int, int]] = []

    async def send(item):
        sent.append(item)
        await asyncio.sleep(0)

    result = asyncio.run(
        closed_loop(send, lambda c, n: (c, n), concurrency=3, requests=9, progress=False)
    )
    assert result.completed == 9
    assert sorted(sent) == [(c, n) for c in range(3) for n in range(3)]


def test_closed_loop_for_a_duration():
    service = FakeService()
    result = asyncio.run(
        closed_loop(service.send, ["a"], concurrency=2, duration_s=0.05, progress=False)
    )
    # how many fit in the time is the clock's business; each one issued is counted once
    assert result.issued == result.completed == len(service.sent)
    assert result.errors == {}
    with pytest.raises(ValueError):
        asyncio.run(closed_loop(service.send, ["a"], concurrency=2, progress=False))


def test_closed_loop_times_out_slow_requests():
    service = FakeService(delay_s=1.0)
    result = asyncio.run(
        closed_loop(service.send, ["a"], concurrency=2, requests=2, timeout_s=0.01, progress=False)
    )
    assert result.errors == {"timeout": 2}


def test_open_loop_sends_one_request_per_seeded_arrival():
    service = FakeService()
    result = asyncio.run(
        open_loop(service.send, ["a", "b"], rate=400, duration_s=0.1, seed=5, progress=False)
    )
    expected = len(poisson_arrivals(400, 0.1, random.Random(5)))
    assert result.issued == expected == len(service.sent)
    assert result.completed == expected
    assert result.rate == 400


def test_http_sender_posts_json_and_classifies_answers():
    """Against a real HTTP server on loopback (aiohttp.web), not a mocked transport."""
    seen = []

    async def translate(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((request.method, request.path, body))
        if body["text"] == "busy":
            return web.json_response({"error": {"code": "overloaded"}}, status=503)
        if body["text"] == "odd":
            return web.json_response({"result": "?"})
        return web.json_response(
            {"translation": f"fr:{body['text']}"}, headers={"X-Model-Time-Ms": "12.5"}
        )

    async def tutorial(request: web.Request) -> web.Response:
        return web.json_response(f"fr:{request.query['text']}")

    async def scenario() -> list:
        routes = [("POST", "/translate", translate), ("POST", "/", tutorial)]
        async with serving(routes) as base_url:
            async with http_sender(base_url, on_headers=headers_seen.append) as send:
                outcomes = [await send("hello")]
                for text in ("busy", "odd"):
                    with pytest.raises(RequestFailed) as failure:
                        await send(text)
                    outcomes.append(failure.value.kind)
            async with http_sender(base_url, tutorial_route=True) as send:
                outcomes.append(await send("Hello world!"))
            # a body with its pair goes as it is (benchmarks/mixed_pairs.py)
            async with http_sender(base_url) as send:
                outcomes.append(await send({"text": "Salut", "source": "fr", "target": "de"}))
            return outcomes

    headers_seen = []
    assert asyncio.run(scenario()) == [
        "fr:hello",
        "http_503",
        "bad_body",
        "fr:Hello world!",
        "fr:Salut",
    ]
    assert seen[0] == ("POST", "/translate", {"text": "hello"})
    assert seen[-1] == ("POST", "/translate", {"text": "Salut", "source": "fr", "target": "de"})
    # Only the one successful answer's headers: the lone benchmark pairs them with its timings.
    assert [h["X-Model-Time-Ms"] for h in headers_seen] == ["12.5"]


def test_handle_sender_calls_the_method_remotely():
    class Method:
        async def remote(self, text, **kwargs):
            return (text, kwargs)

    class Handle:
        translate = Method()

    send = handle_sender(Handle(), target="de")
    assert asyncio.run(send("hi")) == ("hi", {"target": "de"})


def test_median_ci_brackets_the_median_and_narrows_with_more_values():
    rng = random.Random(7)
    few = [rng.gauss(10, 50) for _ in range(20)]
    many = few + [rng.gauss(10, 50) for _ in range(380)]
    median, low, high = median_ci(few)
    assert low <= median <= high
    _, low_many, high_many = median_ci(many)
    assert high_many - low_many < (high - low) / 2
    assert median_ci(few) == (median, low, high)  # seeded
    assert median_ci([5.0, 5.0, 5.0]) == (5.0, 5.0, 5.0)
    with pytest.raises(ValueError):
        median_ci([])
