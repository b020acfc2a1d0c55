"""The one way Totem waits: poll a condition until it holds, pause between rounds, keep a deadline.

Every wait is bounded (or says it is not, with `timeout=None`) and, when it gives up, names what it
waited for and for how long. No other module computes `time.monotonic() + seconds` itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from totem.errors import TotemError

T = TypeVar("T")


class WaitTimeout(TimeoutError, TotemError):
    """The condition did not hold in time."""

    def __init__(self, what: str, timeout: float | None, last_error: BaseException | None = None):
        detail = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
        # One argument only: OSError would read two as (errno, strerror).
        super().__init__(f"timed out after {timeout:g}s waiting for {what}{detail}")
        self.what, self.timeout, self.last_error = what, timeout, last_error


class WaitAborted(TotemError):
    """`abort` said to stop before the condition held; `reason` is what it returned."""

    def __init__(self, what: str, elapsed: float, reason: object):
        detail = f": {reason}" if isinstance(reason, str) else ""
        super().__init__(f"stopped waiting for {what} after {elapsed:.1f}s{detail}")
        self.what, self.elapsed, self.reason = what, elapsed, reason


class Deadline:
    """A moment `seconds` from now on the monotonic clock (never, for None)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.started = time.monotonic()
        self._at = math.inf if seconds is None else self.started + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._at

    def remaining(self) -> float:
        """Seconds left, never below zero (infinite for a deadline that never comes)."""
        return max(0.0, self._at - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def pause(seconds: float, stop: threading.Event | None = None) -> bool:
    """Sleep `seconds`, ending at once when `stop` is set; True when it was (the caller should stop)."""
    if stop is None:
        time.sleep(max(0.0, seconds))
        return False
    return stop.wait(max(0.0, seconds))


def wait(
    condition: Callable[[], T | None],
    timeout: float | None,
    interval: float = 0.05,
    *,
    abort: Callable[[], object] | threading.Event | None = None,
    what: str | None = None,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `condition()` until it returns something truthy, and return that value.

    Between calls it pauses `interval` seconds. When `timeout` seconds pass it raises WaitTimeout.
    `abort` is checked after each unsuccessful call: when it returns something true, WaitAborted is
    raised at once, carrying that value as `reason`; an Event as `abort` also cuts the pause short.
    Exceptions of the `ignoring` types mean "not yet"; the last one is chained to WaitTimeout.
    """
    name: str = what or getattr(condition, "__qualname__", None) or repr(condition)
    deadline = Deadline(timeout)
    stop: threading.Event | None
    should_abort: Callable[[], object] | None
    if isinstance(abort, threading.Event):
        stop, should_abort = abort, abort.is_set
    else:
        stop, should_abort = None, abort
    while True:
        last_error: BaseException | None = None
        try:
            value = condition()
        except ignoring as error:
            value, last_error = None, error
        if value:
            return value
        if should_abort is not None and (reason := should_abort()):
            raise WaitAborted(name, deadline.elapsed(), reason)
        if deadline.expired:
            raise WaitTimeout(name, timeout, last_error) from last_error
        pause(min(interval, deadline.remaining()), stop)
