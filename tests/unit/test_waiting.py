"""totem.waiting: what `wait` returns and raises, `abort`, `pause` and `Deadline`."""

from __future__ import annotations

import math
import threading

import pytest

from totem.errors import TotemError
from totem.waiting import Deadline, WaitAborted, WaitTimeout, pause, wait


def answers(*values):
    """A condition returning `values` one call after the other (the last one from then on)."""
    calls = []

    def condition():
        calls.append(None)
        return values[min(len(calls), len(values)) - 1]

    condition.calls = calls
    return condition


def test_returns_the_first_truthy_value():
    condition = answers(None, 0, "", {"state": "PROMOTED"})
    assert wait(condition, 10, interval=0) == {"state": "PROMOTED"}
    assert len(condition.calls) == 4


def test_timeout_names_what_was_awaited_and_for_how_long():
    with pytest.raises(WaitTimeout) as caught:
        wait(answers(False), 0.05, interval=0.01, what="the proxy applying revision 7")
    assert str(caught.value) == "timed out after 0.05s waiting for the proxy applying revision 7"
    assert (caught.value.what, caught.value.timeout) == ("the proxy applying revision 7", 0.05)


def test_wait_timeout_is_a_timeout_error_and_a_totem_error():
    with pytest.raises(WaitTimeout) as caught:
        wait(answers(False), 0, what="nothing")
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, TotemError)


def test_without_what_the_condition_is_named():
    def etcd_healthy() -> bool:
        return False

    with pytest.raises(WaitTimeout, match="etcd_healthy"):
        wait(etcd_healthy, 0)


def test_a_zero_timeout_looks_once():
    condition = answers(False)
    with pytest.raises(WaitTimeout):
        wait(condition, 0)
    assert len(condition.calls) == 1


def test_ignored_errors_mean_not_yet():
    outcomes = iter([ConnectionError("not listening yet"), None, "up"])

    def starting():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert wait(starting, 10, interval=0, ignoring=(ConnectionError,)) == "up"


def test_the_last_ignored_error_is_named_and_chained_on_timeout():
    def refused():
        raise ConnectionRefusedError("nobody listens")

    with pytest.raises(WaitTimeout, match="ConnectionRefusedError: nobody listens") as caught:
        wait(refused, 0.02, interval=0.01, ignoring=(ConnectionError,))
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_errors_not_ignored_propagate():
    def broken():
        raise ValueError("bad answer")

    with pytest.raises(ValueError, match="bad answer"):
        wait(broken, 10, ignoring=(ConnectionError,))


def test_abort_stops_the_wait_with_its_reason():
    condition = answers(False)
    with pytest.raises(WaitAborted) as caught:
        wait(condition, None, interval=0, abort=answers(None, None, "exited with code 3"), what="redis healthy")
    assert caught.value.reason == "exited with code 3"
    assert "redis healthy" in str(caught.value) and "exited with code 3" in str(caught.value)
    assert len(condition.calls) == 3
    assert isinstance(caught.value, TotemError) and not isinstance(caught.value, TimeoutError)


def test_the_condition_wins_over_abort():
    assert wait(answers("ready"), 10, abort=lambda: True) == "ready"


def test_an_event_as_abort_cuts_the_pause_short():
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    with pytest.raises(WaitAborted) as caught:
        wait(answers(False), None, interval=60, abort=stop, what="a key")  # else a minute-long pause
    assert caught.value.reason is True


def test_pause_ends_when_the_event_is_set():
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert pause(60, stop) is True


def test_pause_without_event_sleeps_and_says_it_was_not_stopped():
    assert pause(0) is False
    assert pause(-1, threading.Event()) is False


def test_deadline():
    assert Deadline(0).expired and Deadline(0).remaining() == 0
    later = Deadline(3600)
    assert not later.expired and 0 < later.remaining() <= 3600 and later.elapsed() >= 0
    never = Deadline(None)
    assert not never.expired and never.remaining() == math.inf
