"""benchmarks/mixed_pairs.py's pure parts: the pairs each client sends, the order of the points,
and how they make the table's line."""

import asyncio
import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import mixed_pairs
from benchmarks.mixed_pairs import (
    MIXED,
    PAIRS,
    SINGLE,
    checkpoints,
    engine_label,
    pair_for,
    phrasebook_sentences,
    picker,
    point_order,
    ratio,
    table_row,
    with_absolute_checkpoints,
)
from benchmarks.report import markdown_table, mixed_pair_notes
from checkpoints import phrasebook
from graph.deploy import load_config
from tests.fixtures.loopback import serving


def test_the_six_pairs_are_every_pair_among_en_fr_de():
    assert len(set(PAIRS)) == 6
    assert set(PAIRS) == {(a, b) for a in ("en", "fr", "de") for b in ("en", "fr", "de") if a != b}


def test_each_client_cycles_through_every_pair_from_its_own_offset():
    for client in range(8):
        cycle = [pair_for(client, step, PAIRS) for step in range(6)]
        assert sorted(cycle) == sorted(PAIRS)
        assert cycle[0] == PAIRS[client % 6]
        assert [pair_for(client, step, PAIRS) for step in range(6, 12)] == cycle
    # at any one step, 8 clients cover all six pairs
    assert {pair_for(client, 3, PAIRS) for client in range(8)} == set(PAIRS)


def test_the_picker_sends_a_sentence_of_the_pair_as_a_request_body():
    sentences = {pair: [f"{pair[0]}-{pair[1]} {n}" for n in range(40)] for pair in PAIRS}
    pick = picker(PAIRS, sentences)
    body = pick(2, 0)
    assert body == {"text": "fr-en 32", "source": "fr", "target": "en"}
    # the next time round the cycle, the next sentence of the same pair
    assert pick(2, 6)["text"] == "fr-en 33"
    # two clients at the same step never send the same sentence
    assert len({pick(client, 5)["text"] for client in range(8)}) == 8
    single = picker([("en", "fr")], {("en", "fr"): ["a", "b", "c"]})
    assert [single(0, step)["text"] for step in range(4)] == ["a", "b", "c", "a"]
    assert {single(c, s)["target"] for c in range(3) for s in range(3)} == {"fr"}


def test_points_alternate_mixed_and_single_round_by_round():
    assert point_order(2) == [(0, MIXED), (0, SINGLE), (1, SINGLE), (1, MIXED)]
    assert [name for _, name in point_order(4)].count(MIXED) == 4


def test_the_shipped_config_with_its_checkpoints_made_absolute():
    config = with_absolute_checkpoints(load_config("local"), Path("/repo"))
    assert checkpoints(config) == [
        "/repo/build/phrasebook-t5",
        "/repo/build/phrasebook-marian",
        "/repo/build/phrasebook-m2m100",
    ]
    assert checkpoints(load_config("local"))[0] == "build/phrasebook-t5"  # not changed in place
    assert with_absolute_checkpoints(config, Path("/elsewhere")) == config
    assert engine_label(config) == "torch float32"


@pytest.mark.skipif(
    "source" not in {f.name for f in dataclasses.fields(phrasebook.Phrase)},
    reason="needs the phrasebook of every pair (branch issue-19-phrasebook)",
)
def test_every_pair_has_phrasebook_sentences_in_its_source_language():
    sentences = phrasebook_sentences(PAIRS)
    assert set(sentences) == set(PAIRS)
    assert all(len(texts) >= 100 for texts in sentences.values())
    assert sentences["fr", "de"] == sentences["fr", "en"]
    assert "Where is the station?" in sentences["en", "fr"]


def point(name, number, throughput, p50, evictions=(0, 0), errors=None) -> dict:
    return {
        "point": name,
        "round": number,
        "concurrency": 8,
        "throughput": throughput,
        "p50_ms": p50,
        "p95_ms": p50 * 1.5,
        "p99_ms": p50 * 2,
        "issued": 96,
        "completed": 96 - sum((errors or {}).values()),
        "errors": errors or {},
        "error_examples": {kind: "why" for kind in errors or {}},
        "evictions_before": evictions[0],
        "evictions_after": evictions[1],
    }


def measured() -> dict:
    return {
        "engine": "torch float32",
        "points": [
            point(MIXED, 0, 6.0, 1000, (2, 30)),
            point(SINGLE, 0, 10.0, 700, (31, 31)),
            point(SINGLE, 1, 8.0, 800, (32, 32)),
            point(MIXED, 1, 6.0, 1200, (33, 55), errors={"http_503": 1}),
        ],
    }


def test_the_line_takes_medians_and_each_rounds_own_ratio():
    row = table_row(measured())
    assert (row["system"], row["workload"], row["concurrency"]) == (
        mixed_pairs.SYSTEM,
        "mixed pairs",
        8,
    )
    assert (row["throughput"], row["p50_ms"], row["p99_ms"]) == (6.0, 1100, 2200)
    assert row["vs_single_pair_rounds"] == pytest.approx([0.6, 0.75])
    assert row["vs_single_pair"] == pytest.approx(0.675)
    assert row["errors"] == {"http_503": 1}
    # the evictions of the timed mixed requests only, not those of warm-ups between them
    assert (row["evictions"], row["evictions_before"], row["evictions_after"]) == (50, 2, 55)
    single = row["single_pair"]
    assert (single["pair"], single["throughput"], single["evictions"]) == ("en-fr", 9.0, 0)
    assert single["errors"] == {}


def test_a_ratio_needs_both_figures():
    assert ratio(3.0, 4.0) == 0.75
    assert ratio(None, 4.0) is None
    assert ratio(3.0, 0.0) is None


def test_the_line_is_one_row_of_the_table_with_its_figures_in_a_note():
    row = table_row(measured())
    (line,) = markdown_table([row]).splitlines()[2:]
    assert line == (
        "| graph, 3 models | torch float32 | mixed pairs | 8 | 6.00 | 1100 | 1650 | 1 | - | - | - |"
    )
    note = mixed_pair_notes({"rows": [row]})
    assert "p99 2200 ms; 0.68x the req/s of en-fr alone" in note
    assert "(9.00 req/s, p50 750 ms, p99 1500 ms, 0 errors)" in note
    assert "evictions in /info during the timed mixed requests 50 (2 before, 55 after)" in note
    skipped = mixed_pair_notes({"rows": [], "mixed_pairs": {"skipped": "no checkpoint at x"}})
    assert skipped == "\nMixed pairs: not measured, no checkpoint at x.\n"
    assert mixed_pair_notes({"rows": [], "mixed_pairs": None}) == ""


def test_the_counts_reach_every_pair_before_the_clock_starts():
    for counts in (mixed_pairs.FULL, mixed_pairs.QUICK):
        warm = Counter(
            pair_for(c, n, PAIRS) for c in range(mixed_pairs.CLIENTS) for n in range(counts.warmup)
        )
        assert set(warm) == set(PAIRS)
    assert mixed_pairs.QUICK.timed < mixed_pairs.FULL.timed


def test_drive_times_each_point_between_two_readings_of_the_evictions():
    """Against a real HTTP server on loopback (aiohttp.web) that evicts on every change of pair."""
    from aiohttp import web

    state = {"evictions": 0, "last": None}
    bodies = []

    async def translate(request: web.Request) -> web.Response:
        body = await request.json()
        bodies.append(body)
        pair = (body["source"], body["target"])
        if state["last"] not in (None, pair):
            state["evictions"] += 1
        state["last"] = pair
        return web.json_response({"translation": body["text"].upper()})

    async def info(request: web.Request) -> web.Response:
        return web.json_response({"replicas": [{"evictions": state["evictions"]}]})

    async def scenario() -> list[dict]:
        sentences = {pair: [f"{pair[0]} {n}" for n in range(40)] for pair in PAIRS}
        picks = {
            MIXED: picker(PAIRS, sentences),
            SINGLE: picker([("en", "fr")], sentences),
        }
        routes = [("POST", "/translate", translate), ("GET", "/info", info)]
        async with serving(routes) as base_url:
            return await mixed_pairs.drive(base_url, picks, mixed_pairs.QUICK, 2, lambda _: None)

    points = asyncio.run(scenario())
    assert [(p["round"], p["point"]) for p in points] == point_order(2)
    per_point = (mixed_pairs.QUICK.warmup + mixed_pairs.QUICK.timed) * mixed_pairs.CLIENTS
    assert len(bodies) == 4 * per_point
    assert all(p["completed"] == p["issued"] == 24 and p["errors"] == {} for p in points)
    mixed, single = points[0], points[1]
    assert mixed["evictions_after"] > mixed["evictions_before"]
    assert single["evictions_after"] == single["evictions_before"]
    assert {(b["source"], b["target"]) for b in bodies[:per_point]} == set(PAIRS)
    assert table_row({"engine": "torch float32", "points": points})["errors"] == {}
