"""Load drivers for the translation service: closed loop and open (Poisson) loop.

Both drive any async ``send(text)``, so one driver measures the HTTP API (``http_sender``) and
the Python API (``handle_sender`` over ``serve.get_app_handle("translation")``) alike.

- Closed loop: ``concurrency`` clients, each sending its next request as soon as its last one
  answers. It finds the throughput at a given concurrency; latency is whatever that costs.
- Open loop: requests arrive at seeded Poisson times at ``rate`` per second whether or not
  earlier ones have answered, as independent users do. Latency counts from the scheduled
  arrival, so a late event loop cannot hide queueing (no coordinated omission).

Warm-up is a phase of its own that finishes before the clock starts, so no warm-up request
shares the measured window. Throughput is completed requests over the wall clock from the
first measured request to the last answer, never a sum of latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import aiohttp
from tqdm import tqdm

Send = Callable[[str], Awaitable[Any]]
# http_sender's: a text, or a whole JSON body with its fields (``source``, ``target``...).
HttpSend = Callable[[str | Mapping[str, Any]], Awaitable[str | list[str]]]
# What a closed loop's clients send: a text, or a whole request body (benchmarks/mixed_pairs.py).
Item = TypeVar("Item")
# What client ``c`` sends as its ``n``-th request: ``pick(c, n)``.
Pick = Callable[[int, int], Item]


class RequestFailed(Exception):
    """A request that answered, but not with a translation; ``kind`` is how it is counted."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(frozen=True)
class Outcome:
    """One measured request: its latency, and the error kind (and what it said) if it failed."""

    latency_s: float
    error: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class LoadResult:
    """One run. Latencies are of successful requests only; ``None`` when none succeeded."""

    mode: str
    issued: int
    completed: int
    errors: dict[str, int]
    wall_s: float
    throughput: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    concurrency: int | None = None
    rate: float | None = None
    # The first answer of each error kind, so that a count in a table can be traced to a cause.
    error_examples: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a terminal."""

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f}"

        load = f"c={self.concurrency}" if self.rate is None else f"rate={self.rate:g}/s"
        errors = ", ".join(f"{kind} {n}" for kind, n in self.errors.items()) or "none"
        return (
            f"{self.mode} {load}: {self.completed}/{self.issued} ok in {self.wall_s:.1f} s, "
            f"{self.throughput:.2f} req/s, p50 {ms(self.p50_ms)} ms, p95 {ms(self.p95_ms)} ms, "
            f"p99 {ms(self.p99_ms)} ms, mean {ms(self.mean_ms)} ms; errors: {errors}"
        )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolating linearly between ranks as numpy does."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median_ci(
    values: Sequence[float], confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The median of ``values`` and a percentile-bootstrap confidence interval around it, seeded
    so that the same numbers always give the same interval."""
    if not values:
        raise ValueError("no values")
    rng = random.Random(seed)
    medians = [statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples)]
    tail = (1 - confidence) / 2 * 100
    return statistics.median(values), percentile(medians, tail), percentile(medians, 100 - tail)


def summarize(
    mode: str,
    outcomes: Sequence[Outcome],
    wall_s: float,
    *,
    concurrency: int | None = None,
    rate: float | None = None,
) -> LoadResult:
    """The statistics of one measured phase; pure, so it tests without a server."""
    latencies_ms = [o.latency_s * 1000 for o in outcomes if o.error is None]
    errors = Counter(o.error for o in outcomes if o.error is not None)

    def stat(q: float) -> float | None:
        return percentile(latencies_ms, q) if latencies_ms else None

    return LoadResult(
        mode=mode,
        issued=len(outcomes),
        completed=len(latencies_ms),
        errors=dict(sorted(errors.items())),
        wall_s=wall_s,
        throughput=len(latencies_ms) / wall_s if wall_s > 0 else 0.0,
        p50_ms=stat(50),
        p95_ms=stat(95),
        p99_ms=stat(99),
        mean_ms=sum(latencies_ms) / len(latencies_ms) if latencies_ms else None,
        concurrency=concurrency,
        rate=rate,
        error_examples={
            kind: next(o.detail for o in outcomes if o.error == kind) for kind in sorted(errors)
        },
    )


def merged_errors(
    results: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, int], dict[str, str]]:
    """Several results' (``LoadResult.to_dict()``) error counts summed, and an example of each
    kind, the first one seen."""
    errors: dict[str, int] = {}
    examples: dict[str, str] = {}
    for result in results:
        for kind, count in result["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
        for kind, example in result.get("error_examples", {}).items():
            examples.setdefault(kind, example)
    return errors, examples


def poisson_arrivals(rate: float, duration_s: float, rng: random.Random) -> list[float]:
    """Arrival times (seconds from the start) of a Poisson process at ``rate`` per second."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    arrivals: list[float] = []
    now = rng.expovariate(rate)
    while now < duration_s:
        arrivals.append(now)
        now += rng.expovariate(rate)
    return arrivals


def error_kind(error: BaseException) -> str:
    """How a failed request is counted: its HTTP status, ``timeout``, or the exception's name."""
    if isinstance(error, RequestFailed):
        return error.kind
    if isinstance(error, TimeoutError):  # asyncio's and aiohttp's timeouts alike
        return "timeout"
    return type(error).__name__


async def _timed(
    send: Callable[[Item], Awaitable[Any]], text: Item, timeout_s: float | None, started: float
) -> Outcome:
    try:
        if timeout_s is None:
            await send(text)
        else:
            await asyncio.wait_for(send(text), timeout_s)
    except Exception as error:
        return Outcome(time.perf_counter() - started, error_kind(error), str(error)[:200])
    return Outcome(time.perf_counter() - started)


def _bar(desc: str, total: int | None, progress: bool) -> tqdm:
    # disable=None: a bar on a terminal, none in a log file or CI.
    return tqdm(total=total, desc=desc, unit="req", disable=None if progress else True, leave=False)


def _count(bar: tqdm, outcome: Outcome, failures: Counter) -> None:
    bar.update(1)
    if outcome.error is not None:
        failures[outcome.error] += 1
        bar.set_postfix(errors=sum(failures.values()), refresh=False)


async def _closed_phase(
    send: Callable[[Item], Awaitable[Any]],
    texts: Sequence[Item] | Pick[Item],
    *,
    concurrency: int,
    duration_s: float | None,
    requests: int | None,
    timeout_s: float | None,
    bar: tqdm,
) -> tuple[list[Outcome], float]:
    """Clients send back to back until ``requests`` are issued or ``duration_s`` has passed:
    ``texts`` in order, shared by all the clients, or what ``texts(client, n)`` picks."""
    outcomes: list[Outcome] = []
    failures: Counter = Counter()
    issued = 0
    start = time.perf_counter()
    deadline = None if duration_s is None else start + duration_s

    async def client(number: int) -> None:
        nonlocal issued
        sent = 0
        while (requests is None or issued < requests) and (
            deadline is None or time.perf_counter() < deadline
        ):
            text = texts(number, sent) if callable(texts) else texts[issued % len(texts)]
            issued += 1
            sent += 1
            outcome = await _timed(send, text, timeout_s, time.perf_counter())
            outcomes.append(outcome)
            _count(bar, outcome, failures)

    await asyncio.gather(*(client(number) for number in range(concurrency)))
    return outcomes, time.perf_counter() - start


async def closed_loop(
    send: Callable[[Item], Awaitable[Any]],
    texts: Sequence[Item] | Pick[Item],
    *,
    concurrency: int,
    duration_s: float | None = None,
    requests: int | None = None,
    warmup_s: float = 0.0,
    warmup_requests: int = 0,
    timeout_s: float | None = None,
    progress: bool = True,
) -> LoadResult:
    """``concurrency`` clients back to back for ``duration_s`` or ``requests`` requests in all.

    Warm-up (``warmup_s`` or ``warmup_requests``, same clients) runs to completion first and
    is not counted. Texts are sent in order, cycling through ``texts``; or, where ``texts`` is
    a function, client ``c`` sends ``texts(c, n)`` as its ``n``-th request of each phase, so
    that each client follows a sequence of its own.
    """
    if (duration_s is None) == (requests is None):
        raise ValueError("give exactly one of duration_s and requests")
    if concurrency < 1 or not texts:
        raise ValueError("need concurrency >= 1 and at least one text")
    if warmup_s > 0 or warmup_requests > 0:
        with _bar("warm-up", warmup_requests or None, progress) as bar:
            await _closed_phase(
                send,
                texts,
                concurrency=concurrency,
                duration_s=warmup_s if warmup_s > 0 else None,
                requests=warmup_requests if warmup_requests > 0 else None,
                timeout_s=timeout_s,
                bar=bar,
            )
    with _bar(f"closed c={concurrency}", requests, progress) as bar:
        outcomes, wall_s = await _closed_phase(
            send,
            texts,
            concurrency=concurrency,
            duration_s=duration_s,
            requests=requests,
            timeout_s=timeout_s,
            bar=bar,
        )
    return summarize("closed", outcomes, wall_s, concurrency=concurrency)


async def _open_phase(
    send: Send,
    texts: Sequence[str],
    arrivals: Sequence[float],
    *,
    timeout_s: float | None,
    bar: tqdm,
) -> tuple[list[Outcome], float]:
    """One task per arrival, started at its time; waits for every answer."""
    failures: Counter = Counter()
    start = time.perf_counter()
    tasks: list[asyncio.Task[Outcome]] = []

    def counted(task: asyncio.Task[Outcome]) -> None:
        if not task.cancelled():
            _count(bar, task.result(), failures)

    for index, offset in enumerate(arrivals):
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(
            _timed(send, texts[index % len(texts)], timeout_s, start + offset)
        )
        task.add_done_callback(counted)
        tasks.append(task)
    outcomes = list(await asyncio.gather(*tasks))
    return outcomes, time.perf_counter() - start


async def open_loop(
    send: Send,
    texts: Sequence[str],
    *,
    rate: float,
    duration_s: float,
    warmup_s: float = 0.0,
    seed: int = 0,
    timeout_s: float | None = None,
    progress: bool = True,
) -> LoadResult:
    """Poisson arrivals at ``rate`` per second for ``duration_s``; the wall clock runs on until
    the last answer, so an overloaded service shows its real throughput, not the offered rate.

    Warm-up arrives at the same rate for ``warmup_s`` (its own seeded draw) and is waited for.
    """
    if not texts:
        raise ValueError("need at least one text")
    if warmup_s > 0:
        warmup = poisson_arrivals(rate, warmup_s, random.Random(f"warm-up {seed}"))
        with _bar("warm-up", len(warmup), progress) as bar:
            await _open_phase(send, texts, warmup, timeout_s=timeout_s, bar=bar)
    arrivals = poisson_arrivals(rate, duration_s, random.Random(seed))
    with _bar(f"open {rate:g}/s", len(arrivals), progress) as bar:
        outcomes, wall_s = await _open_phase(send, texts, arrivals, timeout_s=timeout_s, bar=bar)
    return summarize("open", outcomes, wall_s, rate=rate)


@asynccontextmanager
async def http_sender(
    base_url: str,
    *,
    timeout_s: float = 120.0,
    max_connections: int = 256,
    tutorial_route: bool = False,
    on_headers: Callable[[Mapping[str, str]], None] | None = None,
) -> AsyncIterator[HttpSend]:
    """``send(text)`` over ``POST {base_url}/translate``; anything but 200 with a translation
    raises ``RequestFailed`` (``http_503``, ``bad_body``...). ``send(body)``, a mapping, posts
    that JSON body as it is (a text with its ``source`` and ``target``). ``on_headers``, if
    given, gets each successful response's headers (the graph's ``X-Model-Time-Ms`` and the like).

    ``tutorial_route`` sends ``POST {base_url}/?text=...`` and expects a JSON string, as the
    tutorial's client does (and the seed app answers).

    aiohttp, not httpx: the driver shares the machine with the service it measures, and every
    millisecond of CPU it spends per request is taken from the server (docs/benchmarks.md).
    """
    connector = aiohttp.TCPConnector(limit=max_connections)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    # trust_env=False: an HTTP(S)_PROXY in the environment must not sit between us and the service.
    async with aiohttp.ClientSession(
        base_url.rstrip("/") + "/", connector=connector, timeout=timeout, trust_env=False
    ) as session:

        async def send(text: str | Mapping[str, Any]) -> str | list[str]:
            fields = dict(text) if isinstance(text, Mapping) else {"text": text}
            if tutorial_route:
                request = session.post("", params={"text": fields["text"]})
            else:
                request = session.post("translate", json=fields)
            async with request as response:
                body_text = await response.text()
            if response.status != 200:
                raise RequestFailed(f"http_{response.status}", body_text[:200])
            try:
                body = json.loads(body_text)
                translation = body if tutorial_route else body.get("translation")
            except (ValueError, AttributeError):
                translation = None
            texts = translation if isinstance(translation, list) else [translation]
            if not texts or not all(isinstance(t, str) for t in texts):
                raise RequestFailed("bad_body", body_text[:200])
            if on_headers is not None:
                on_headers(response.headers)
            return translation

        yield send


def handle_sender(handle: Any, method: str = "translate", **kwargs: Any) -> Send:
    """``send(text)`` over a Serve handle: ``handle.<method>.remote(text, **kwargs)``.

    Duck-typed, so this module never imports Ray; ``serve.get_app_handle("translation")``
    must be called inside the process (and event loop) that awaits the sends.
    """

    async def send(text: str) -> Any:
        return await getattr(handle, method).remote(text, **kwargs)

    return send


async def _run_http(args: argparse.Namespace) -> LoadResult:
    from benchmarks.workloads import workload

    texts = workload(args.workload, args.texts, seed=args.seed)
    async with http_sender(args.url, timeout_s=args.timeout) as send:
        if args.mode == "closed":
            return await closed_loop(
                send,
                texts,
                concurrency=args.concurrency,
                duration_s=args.duration,
                warmup_s=args.warmup,
            )
        return await open_loop(
            send, texts, rate=args.rate, duration_s=args.duration, warmup_s=args.warmup
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drive a running service over HTTP.")
    parser.add_argument("mode", choices=["closed", "open"])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--workload", default="uniform")
    parser.add_argument("--texts", type=int, default=512, help="distinct sentences to cycle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=8, help="closed loop clients")
    parser.add_argument("--rate", type=float, default=4.0, help="open loop requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(_run_http(args))
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
