import pytest

from deployments.batching.admission import AdmissionControl
from deployments.core.errors import Overloaded, TemporarilyUnavailable
from deployments.http.errors import retry_headers, status_of


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_admits_up_to_the_bound_and_refuses_past_it():
    control = AdmissionControl(max_pending=10, clock=Clock())
    control.admit(6)
    control.admit(4)
    with pytest.raises(Overloaded) as caught:
        control.admit(1)
    assert control.pending == 10  # the refused text was not counted in
    assert status_of(caught.value) == 503
    assert caught.value.details["limit"] == 10
    assert caught.value.details["in_flight"] == 10
    assert control.refused == 1


def test_a_request_bigger_than_what_is_left_is_refused_whole():
    control = AdmissionControl(max_pending=10, clock=Clock())
    control.admit(8)
    with pytest.raises(Overloaded):
        control.admit(3)
    control.admit(2)


def test_released_texts_make_room_again():
    control = AdmissionControl(max_pending=4, clock=Clock())
    control.admit(4)
    control.release(4, completed=False)
    control.admit(4)


def busy(control: AdmissionControl, clock: Clock, texts: int, seconds: float) -> None:
    """``texts`` texts in, ``seconds`` of work, all completed."""
    control.admit(texts)
    clock.now += seconds
    control.release(texts, completed=True)


def test_the_rate_counts_busy_time_only():
    clock = Clock()
    control = AdmissionControl(max_pending=40, clock=clock)
    assert control.rate() is None and control.retry_after_s() == 1  # nothing measured yet
    for _ in range(5):  # 10 texts per busy second, with idle gaps between
        busy(control, clock, 10, 1.0)
        clock.now += 0.5
    assert control.rate() == pytest.approx(10.0)
    control.admit(40)
    assert control.retry_after_s() == 4
    with pytest.raises(Overloaded) as caught:
        control.admit(1)
    assert caught.value.details["retry_after_s"] == 4
    assert retry_headers(caught.value) == {"Retry-After": "4"}


def test_a_request_is_refused_when_its_expected_wait_is_over_the_bound():
    clock = Clock()
    control = AdmissionControl(max_pending=1000, max_queue_wait_s=2.0, clock=clock)
    busy(control, clock, 10, 1.0)  # 10 texts/s
    control.admit(15)
    with pytest.raises(Overloaded) as caught:
        control.admit(6)  # (15 + 6) / 10 = 2.1 s
    assert caught.value.details["expected_wait_s"] == pytest.approx(2.1)
    assert caught.value.details["limit_s"] == 2.0
    assert caught.value.details["retry_after_s"] == 1
    assert "2.1 s" in caught.value.message and "limit of 2 s" in caught.value.message
    control.admit(5)  # exactly 2 s: admitted
    assert control.pending == 20


def test_the_requests_own_deadline_bounds_its_wait_too():
    clock = Clock()
    control = AdmissionControl(max_pending=1000, max_queue_wait_s=30.0, clock=clock)
    busy(control, clock, 10, 1.0)
    control.admit(5)
    with pytest.raises(Overloaded):
        control.admit(6, timeout_s=1.0)
    control.admit(6, timeout_s=2.0)


def test_a_request_with_nothing_ahead_is_always_admitted():
    clock = Clock()
    control = AdmissionControl(max_pending=1000, max_queue_wait_s=1.0, clock=clock)
    busy(control, clock, 10, 1.0)
    control.admit(64)  # 6.4 s of work, but nothing waits ahead of it
    assert control.pending == 64


def test_until_a_rate_is_known_one_batch_is_admitted():
    control = AdmissionControl(max_pending=1000, max_queue_wait_s=5.0, one_call_texts=4)
    control.admit(3)
    control.admit(1)
    with pytest.raises(Overloaded) as caught:
        control.admit(1)
    assert "warming up" in caught.value.message and caught.value.details["limit"] == 4


def test_the_rate_forgets_old_completions_and_retry_after_is_bounded():
    clock = Clock()
    control = AdmissionControl(max_pending=1000, clock=clock)
    busy(control, clock, 1, 1.0)
    control.admit(1000)
    assert control.retry_after_s() == 60  # 1 text/s for 1000 texts: capped at a minute
    control.release(1000, completed=False)
    clock.now += 60
    assert control.rate() is None
    assert control.retry_after_s() == 1


def test_one_calls_worth_is_admitted_whatever_the_rate_says():
    """A rate measured on lone texts (batches of one) understates a full batch: a burst that
    fits one model call is not refused on it; past one call, the wait bound holds again."""
    clock = Clock()
    control = AdmissionControl(
        max_pending=1000, max_queue_wait_s=2.0, one_call_texts=32, clock=clock
    )
    for _ in range(4):
        busy(control, clock, 1, 1.0)  # 1 text/s, as lone requests are served
    for _ in range(32):
        control.admit(1)  # 32 s at the lone-text rate, but one model call
    with pytest.raises(Overloaded) as caught:
        control.admit(1)
    assert "expected wait" in caught.value.message
    control.release(32, completed=False)
    control.admit(16)
    with pytest.raises(Overloaded):  # the request's own deadline still counts
        control.admit(1, timeout_s=5.0)


def test_after_a_replica_dies_only_a_probe_is_admitted_until_a_text_completes():
    clock = Clock()
    control = AdmissionControl(max_pending=1000, max_queue_wait_s=30.0, clock=clock)
    busy(control, clock, 10, 1.0)
    control.admit(5)
    control.replica_lost()
    clock.now += 3
    with pytest.raises(TemporarilyUnavailable) as caught:
        control.admit(1)
    assert status_of(caught.value) == 503 and caught.value.details["retry_after_s"] >= 1
    assert "3 s ago" in caught.value.message
    assert control.replicas_lost == 1 and control.refused == 1
    control.release(5, completed=False)  # the retries failed too: nothing completed
    control.admit(1)  # nothing ahead: a probe goes through, or nobody would ever find out
    with pytest.raises(TemporarilyUnavailable):
        control.admit(1)
    control.release(1, completed=True)  # the replacement answered
    control.admit(1)
    control.admit(1)
