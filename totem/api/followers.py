"""A cap on followed logs (build logs, app logs) per API worker process.

A follower holds one of the worker's threads until its stream ends, so without a cap a handful of
open log pages could take every thread and leave `/health` and the rest of the API unanswered. A
follower takes a slot, or is refused (429) when none is free; the slot comes back when its answer
is closed (the stream ended, or the client left).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from totem.api.errors import ApiError

RETRY_AFTER_SECONDS = 10  # what a follower refused for lack of a slot is told to wait


class FollowerSlots:
    def __init__(self, limit: int):
        self.limit = limit
        self._lock = threading.Lock()
        self._taken = 0

    @property
    def taken(self) -> int:
        return self._taken

    def take(self) -> Callable[[], None] | None:
        """A free slot's release function (calling it again does nothing), or None when all are taken."""
        with self._lock:
            if self._taken >= self.limit:
                return None
            self._taken += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._taken -= 1

        return release

    def take_or_refuse(self, what: str) -> Callable[[], None]:
        """A free slot's release function, or the 429 that tells the client when to retry."""
        release = self.take()
        if release is None:
            raise ApiError(
                429,
                "too_many_followers",
                f"{self.limit} {what} are followed on this worker already; retry in {RETRY_AFTER_SECONDS}s",
                {"limit": self.limit, "retry_after": RETRY_AFTER_SECONDS},
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return release
