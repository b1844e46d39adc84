"""The repeated-text line's pure parts: its requests, its order of points, its table."""

from collections import Counter

from benchmarks import repeated_text
from benchmarks.repeated_text import MEMORY, NO_MEMORY, point_order, rows, zipf_picker

POOL = [f"sentence {i}." for i in range(1000)]


def test_requests_are_seeded_per_client_and_step():
    pick = zipf_picker(POOL)
    assert pick(3, 5) == pick(3, 5)
    assert pick(3, 5) != pick(4, 5) or pick(3, 6) != pick(3, 5)
    sizes = {len(pick(c, n)["text"]) for c in range(20) for n in range(20)}
    assert sizes == set(range(1, repeated_text.MAX_TEXTS + 1))
    assert repeated_text.without_memory(pick)(3, 5) == {**pick(3, 5), "cache": False}


def test_ranks_follow_zipf():
    pick = zipf_picker(POOL, s=1.1)
    drawn = Counter(t for c in range(50) for n in range(40) for t in pick(c, n)["text"])
    total = sum(drawn.values())
    weights = [rank**-1.1 for rank in range(1, len(POOL) + 1)]
    # The first rank's share within a few points of its Zipf weight; ranks decrease on average.
    assert abs(drawn[POOL[0]] / total - weights[0] / sum(weights)) < 0.03
    assert drawn[POOL[0]] > drawn[POOL[1]] > drawn[POOL[9]]


def test_points_alternate_and_rows_pair_rounds():
    assert point_order(2) == [(0, MEMORY), (0, NO_MEMORY), (1, NO_MEMORY), (1, MEMORY)]

    def point(name, number, throughput, hits=0, misses=0):
        return {
            "point": name, "round": number, "clients": 32, "throughput": throughput,
            "p50_ms": 100.0, "p95_ms": 200.0 if name == MEMORY else 400.0,
            "hits": hits, "misses": misses, "errors": {}, "error_examples": {},
        }  # fmt: skip

    (row,) = rows(
        [
            point(MEMORY, 0, 9.0, hits=80, misses=20),
            point(NO_MEMORY, 0, 3.0),
            point(NO_MEMORY, 1, 2.0),
            point(MEMORY, 1, 10.0, hits=90, misses=10),
        ]
    )
    assert row["rounds"] == [3.0, 5.0]
    assert row["memory_vs_no_memory"] == 4.0
    assert row["hit_ratio"] == 170 / 200
    assert (row["p95_ms_memory"], row["p95_ms_no_memory"]) == (200.0, 400.0)
