"""Request ids, timing headers and metric tags (deployments/core/observability.py)."""

import uuid

import pytest

from deployments.core.observability import (
    MAX_REQUEST_ID_CHARS,
    OTHER_TARGET,
    critical_timing,
    request_id_or_new,
    target_tag,
    timing_headers,
    usable_request_id,
)


@pytest.mark.parametrize(
    "value",
    [
        "abc-123",
        str(uuid.uuid4()),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "x" * MAX_REQUEST_ID_CHARS,
        "a:b/c=d",
    ],
)
def test_a_usable_id_is_kept(value):
    assert request_id_or_new(value) == (value, False)


@pytest.mark.parametrize(
    "value",
    ["", "with space", "x" * (MAX_REQUEST_ID_CHARS + 1), "café", "tab\there", "nul\x00", "\x7f"],
)
def test_an_unusable_id_is_replaced_and_says_so(value):
    request_id, replaced = request_id_or_new(value)
    assert replaced
    assert request_id != value
    assert usable_request_id(request_id)


def test_no_id_gets_a_new_one_without_saying_it_replaced_anything():
    first, replaced = request_id_or_new(None)
    assert not replaced and usable_request_id(first)
    assert request_id_or_new(None)[0] != first


def test_timing_headers_in_milliseconds_and_as_server_timing():
    headers = dict(timing_headers(0.25, queue_s=0.0125, model_s=0.2))
    assert headers[b"x-total-time-ms"] == b"250.0"
    assert headers[b"x-queue-time-ms"] == b"12.5"
    assert headers[b"x-model-time-ms"] == b"200.0"
    assert headers[b"server-timing"] == b"queue;dur=12.5, model;dur=200.0, total;dur=250.0"


def test_a_request_that_never_reached_the_model_has_only_its_total():
    headers = dict(timing_headers(0.003))
    assert set(headers) == {b"x-total-time-ms", b"server-timing"}
    assert headers[b"server-timing"] == b"total;dur=3.0"


def test_the_critical_text_sets_a_requests_timing():
    # Text a ran first in a long call; text b waited for it, then ran in a short one. Reporting
    # the longest queue (b) with the longest model time (a) would exceed what the request took.
    a, b = (0.0, 1.0), (1.0, 0.1)
    assert critical_timing([a, b, None]) == b
    assert critical_timing([None, None]) is None
    assert critical_timing([]) is None


def test_metric_target_tags_stay_few():
    known = {"fr", "de"}
    assert target_tag("fr", known) == "fr"
    assert target_tag("x" * 10_000, known) == OTHER_TARGET
    assert target_tag(None, known) == "none"
