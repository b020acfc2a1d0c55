"""A lease-based lock: the holder's lease is kept alive; if the holder dies the lock frees itself."""

from __future__ import annotations

import os
import re
import socket
import threading
import uuid
from typing import TYPE_CHECKING

from totem.errors import TotemError
from totem.waiting import WaitTimeout, wait

if TYPE_CHECKING:
    from totem.store.base import Lease, Store

LOCK_PREFIX = "/totem/locks/"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,200}$")


class LockLost(TotemError, RuntimeError):
    """The lease behind a held lock expired; the protected work must stop."""


class Lock:
    def __init__(self, store: Store, name: str, ttl: int = 10, poll: float = 0.1):
        if not _NAME.match(name) or ".." in name:
            raise ValueError(f"invalid lock name {name!r}")
        self.store = store
        self.key = LOCK_PREFIX + name
        self.ttl = ttl
        self.poll = poll
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.lost = threading.Event()
        self._lease: Lease | None = None

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        self.lost.clear()
        lease = self.store.lease(self.ttl).keep_alive(on_lost=self.lost.set)
        try:
            wait(
                lambda: self.store.create(self.key, self.token, lease),
                timeout if blocking else 0,
                self.poll,
                what=f"lock {self.key}",
            )
        except WaitTimeout:
            lease.revoke()
            return False
        self._lease = lease
        return True

    def release(self) -> None:
        lease, self._lease = self._lease, None
        if lease is None:
            return
        lease.stop()
        try:
            self.store.delete(self.key, prev_value=self.token)
        finally:
            lease.revoke()

    @property
    def held(self) -> bool:
        return self._lease is not None and not self.lost.is_set() and self.store.get(self.key) == self.token

    def check(self) -> None:
        """Raise LockLost if the lock's lease has expired meanwhile."""
        if self.lost.is_set():
            raise LockLost(self.key)

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
