"""The cluster-state interface every adapter implements.

Keys and values are strings. Leases make keys vanish when their owner stops
refreshing them. Watches and locks are built here once, on a few primitives
each adapter provides (`snapshot`, `stream`).

Atomic updates follow one contract everywhere (this store, the deployer's records, the
orchestrator's jobs): `update(key, change)` calls `change(current)`, which returns
`(new, result)`. `new` is what to write (None: write nothing) and `result` is what `update`
returns. `change` runs once per optimistic attempt, each time on a freshly read copy: it may
change that copy in place, but must have no other effect than computing its return value.
"""

from __future__ import annotations

import builtins
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from totem.store.errors import StoreConflict, StoreUnavailable
from totem.waiting import pause

if TYPE_CHECKING:
    from totem.store.lock import Lock
    from totem.store.watch import Watcher

T = TypeVar("T")
R = TypeVar("R")
Change = Callable[[T], tuple[T | None, R]]  # change(current) -> (new or None, result)


def members(url: str) -> list[tuple[str, int]]:
    """(host, port) of every member a store URL names: `etcd://a:2379,b:2379,c:2379` (one or more)."""
    found = []
    for part in urlsplit(url).netloc.split(","):
        parts = urlsplit(f"//{part.strip()}")
        found.append((parts.hostname or "127.0.0.1", parts.port or 2379))
    return found


@dataclass(frozen=True)
class Event:
    """A change under a watched prefix: type is "put" or "delete"."""

    type: str
    key: str
    value: str | None
    revision: int


class Lease(ABC):
    """Keys written with a lease disappear `ttl` seconds after the last refresh."""

    def __init__(self, ttl: int):
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def refresh(self) -> bool:
        """Extend the lease; False when it has already expired."""

    @abstractmethod
    def revoke(self) -> None:
        """End the lease now; its keys are deleted."""

    def keep_alive(self, on_lost: Callable[[], None] | None = None) -> Lease:
        """Refresh in a background thread (every ttl/3 s) until `revoke` or `stop`."""

        def run() -> None:
            while not pause(max(self.ttl / 3.0, 0.2), self._stop):
                try:
                    alive = self.refresh()
                except StoreUnavailable:
                    continue  # retry on the next tick; the lease may still be valid
                if not alive:
                    if on_lost:
                        on_lost()
                    return

        self._thread = threading.Thread(target=run, name="lease-keepalive", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


class Store(ABC):
    """Get, put, delete, list, compare-and-swap, leases, watches and locks."""

    url: str

    # -- primitives every adapter implements ---------------------------------
    @abstractmethod
    def get(self, key: str) -> str | None: ...

    @abstractmethod
    def put(self, key: str, value: str, lease: Lease | None = None) -> None: ...

    @abstractmethod
    def create(self, key: str, value: str, lease: Lease | None = None) -> bool:
        """Write only if the key does not exist; True when written."""

    @abstractmethod
    def cas(self, key: str, value: str, prev_value: str, lease: Lease | None = None) -> bool:
        """Write only if the current value equals `prev_value`; True when written."""

    @abstractmethod
    def delete(self, key: str, prev_value: str | None = None) -> bool:
        """Delete one key (only if its value is `prev_value`, when given)."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abstractmethod
    def list(self, prefix: str) -> dict[str, str]:
        """Every key under `prefix` (a path ending in "/") with its value."""

    @abstractmethod
    def lease(self, ttl: int) -> Lease: ...

    @abstractmethod
    def ping(self) -> bool: ...

    @abstractmethod
    def snapshot(self, prefix: str) -> tuple[dict[str, str], int]:
        """Keys under prefix and the revision they were read at."""

    @abstractmethod
    def stream(self, prefix: str, revision: int, ctx: Watcher) -> Iterator[tuple[int, builtins.list[Event]]]:
        """(revision, events) from `revision` on. Raises Compacted when that history is
        gone and StoreUnavailable on connection loss; returns when `ctx.stopped` is set
        or after an idle read timeout (the caller resumes from the last revision).
        Adapters register a way to interrupt a blocking read with `ctx.on_stop`."""

    # -- built on the primitives ---------------------------------------------
    def put_if(self, key: str, value: str, prev_value: str | None, lease: Lease | None = None) -> bool:
        """Compare-and-swap where prev_value None means "only if absent"."""
        if prev_value is None:
            return self.create(key, value, lease)
        return self.cas(key, value, prev_value, lease)

    def update(self, key: str, change: Change[str | None, R], attempts: int = 50) -> R:
        """Atomic read-modify-write under the `Change` contract (old is None when the key is absent)."""
        for _ in range(attempts):
            old = self.get(key)
            new, result = change(old)
            if new is None or new == old:
                return result
            if self.put_if(key, new, old):
                return result
        raise StoreConflict(f"{key}: too many concurrent updates")

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self.get(key)
        return default if raw is None else json.loads(raw)

    def put_json(self, key: str, value: Any, lease: Lease | None = None) -> None:
        self.put(key, json.dumps(value, sort_keys=True), lease)

    def watch(self, prefix: str, callback: Callable[[Event], None], **options: Any) -> Watcher:
        from totem.store.watch import Watcher

        return Watcher(self, prefix, callback, **options).start()

    def lock(self, name: str, ttl: int = 10) -> Lock:
        from totem.store.lock import Lock

        return Lock(self, name, ttl)
