"""Waits that look again soon, then less often: what is ready within milliseconds (a container just
started, an endpoint just registered, a proxy acking) is seen within milliseconds, and what takes
seconds costs a few looks a second rather than one every few milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from totem.waiting import Deadline, WaitTimeout, pause

T = TypeVar("T")

FIRST = 0.01  # seconds before the second look
LONGEST = 0.25  # the pause never grows past this


def poll(
    condition: Callable[[], T | None], timeout: float, what: str, first: float = FIRST, longest: float = LONGEST
) -> T:
    """`condition()` until it returns something truthy (returned), pausing `first` seconds, then
    doubling up to `longest`; WaitTimeout naming `what` after `timeout` seconds."""
    deadline = Deadline(timeout)
    interval = first
    while True:
        value = condition()
        if value:
            return value
        if deadline.expired:
            raise WaitTimeout(what, timeout)
        pause(min(interval, deadline.remaining()))
        interval = min(interval * 2, longest)
