import pytest

from deployments.batching.admission import AdmissionControl
from deployments.core.errors import Overloaded
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


def test_retry_after_is_the_time_to_drain_at_recent_throughput():
    clock = Clock()
    control = AdmissionControl(max_pending=40, clock=clock)
    assert control.retry_after_s() == 1  # nothing measured yet: the minimum
    for _ in range(5):  # 10 texts per second for 5 s
        control.admit(10)
        clock.now += 1.0
        control.release(10, completed=True)
    control.admit(40)
    assert control.throughput() == pytest.approx(10.0)
    assert control.retry_after_s() == 4
    with pytest.raises(Overloaded) as caught:
        control.admit(1)
    assert caught.value.details["retry_after_s"] == 4
    assert retry_headers(caught.value) == {"Retry-After": "4"}


def test_retry_after_forgets_old_completions_and_is_bounded():
    clock = Clock()
    control = AdmissionControl(max_pending=1000, clock=clock)
    control.admit(1)
    control.release(1, completed=True)
    control.admit(1000)
    assert control.retry_after_s() == 60  # 1 text/s for 1000 texts: capped at a minute
    clock.now += 60
    assert control.throughput() is None
    assert control.retry_after_s() == 1
