"""etcd v2 adapter (python-etcd), for clusters still on the 2015 yoda layout.

v2 has no leases: a lease here is a TTL shared by the keys written with it and
refreshed together.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import etcd
import urllib3

from totem.store.base import Event, Lease, Store, members
from totem.store.errors import Compacted, StoreUnavailable, translating

if TYPE_CHECKING:
    from totem.store.watch import Watcher

_DELETES = {"delete", "expire", "compareAndDelete"}
WATCH_POLL = 2.0  # seconds a v2 long poll waits before the loop checks for stop


_translated = translating((etcd.EtcdConnectionFailed, urllib3.exceptions.HTTPError))


class Etcd2Lease(Lease):
    """Each key is refreshed and deleted only while it still holds the value written with
    the lease, so a lease never touches a key someone else has written since."""

    def __init__(self, store: Etcd2Store, ttl: int):
        super().__init__(ttl)
        self.store = store
        self.keys: dict[str, str] = {}
        self._guard = threading.Lock()

    def attach(self, key: str, value: str) -> None:
        with self._guard:
            self.keys[key] = value

    @_translated
    def refresh(self) -> bool:
        with self._guard:
            keys = list(self.keys.items())
        for key, value in keys:
            try:
                self.store.client.refresh(key, self.ttl, prevValue=value)
            except (etcd.EtcdKeyNotFound, etcd.EtcdCompareFailed):
                return False
        return True

    @_translated
    def revoke(self) -> None:
        self.stop()
        with self._guard:
            keys, self.keys = list(self.keys.items()), {}
        for key, value in keys:
            try:
                self.store.client.delete(key, prevValue=value)
            except (etcd.EtcdKeyNotFound, etcd.EtcdCompareFailed):
                pass


def _ttl(lease: Lease | None) -> int | None:
    return lease.ttl if lease is not None else None


class Etcd2Store(Store):
    def __init__(self, url: str = "etcd2://127.0.0.1:2379", timeout: float = 5.0):
        self.url = url
        hosts = members(url)
        self.client = etcd.Client(
            # python-etcd takes a tuple of (host, port) to move between members
            host=tuple(hosts) if len(hosts) > 1 else hosts[0][0],
            port=hosts[0][1],
            protocol="https" if urlsplit(url).scheme == "etcd2s" else "http",
            read_timeout=timeout,
            allow_reconnect=len(hosts) > 1,
        )

    def _written(self, key: str, value: str, lease: Lease | None) -> None:
        if isinstance(lease, Etcd2Lease):
            lease.attach(key, value)

    @_translated
    def get(self, key: str) -> str | None:
        try:
            node = self.client.read(key)
        except etcd.EtcdKeyNotFound:
            return None
        return None if node.dir else node.value

    @_translated
    def put(self, key: str, value: str, lease: Lease | None = None) -> None:
        self.client.write(key, value, ttl=_ttl(lease))
        self._written(key, value, lease)

    @_translated
    def create(self, key: str, value: str, lease: Lease | None = None) -> bool:
        try:
            self.client.write(key, value, ttl=_ttl(lease), prevExist=False)
        except etcd.EtcdAlreadyExist:
            return False
        self._written(key, value, lease)
        return True

    @_translated
    def cas(self, key: str, value: str, prev_value: str, lease: Lease | None = None) -> bool:
        try:
            self.client.write(key, value, ttl=_ttl(lease), prevValue=prev_value)
        except (etcd.EtcdCompareFailed, etcd.EtcdKeyNotFound):
            return False
        self._written(key, value, lease)
        return True

    @_translated
    def delete(self, key: str, prev_value: str | None = None) -> bool:
        try:
            if prev_value is None:
                self.client.delete(key)
            else:
                self.client.delete(key, prevValue=prev_value)
        except (etcd.EtcdKeyNotFound, etcd.EtcdCompareFailed):
            return False
        return True

    @_translated
    def delete_prefix(self, prefix: str) -> None:
        for key in self.list(prefix):
            try:
                self.client.delete(key)
            except etcd.EtcdKeyNotFound:
                pass

    def list(self, prefix: str) -> dict[str, str]:
        return self.snapshot(prefix)[0]

    @_translated
    def snapshot(self, prefix: str) -> tuple[dict[str, str], int]:
        directory = prefix.rstrip("/") or "/"
        try:
            result = self.client.read(directory, recursive=True)
        except etcd.EtcdKeyNotFound as exc:
            return {}, int((exc.payload or {}).get("index", 0))
        items = {node.key: node.value or "" for node in result.leaves if not node.dir and node.key.startswith(prefix)}
        return items, int(result.etcd_index)

    def lease(self, ttl: int) -> Lease:
        return Etcd2Lease(self, ttl)

    def ping(self) -> bool:
        try:
            return bool(self.client.version)
        except Exception:
            return False

    def stream(self, prefix: str, revision: int, ctx: Watcher) -> Iterator[tuple[int, builtins.list[Event]]]:
        directory = prefix.rstrip("/") or "/"
        index = revision
        while not ctx.stopped.is_set():
            try:
                node = self.client.watch(directory, index=index, recursive=True, timeout=WATCH_POLL)
            except etcd.EtcdWatchTimedOut:
                continue
            except etcd.EtcdEventIndexCleared:
                raise Compacted(f"v2 event history no longer holds index {index}") from None
            except etcd.EtcdKeyNotFound:
                raise Compacted("watched directory vanished") from None
            except (etcd.EtcdConnectionFailed, urllib3.exceptions.HTTPError) as exc:
                raise StoreUnavailable(f"etcd watch failed: {exc}") from None
            index = int(node.modifiedIndex) + 1
            if node.key != directory and not node.key.startswith(prefix):
                yield index - 1, []
                continue
            if node.action in _DELETES:
                yield index - 1, [Event("delete", node.key, None, index - 1)]
            elif not node.dir:
                yield index - 1, [Event("put", node.key, node.value or "", index - 1)]
            else:
                yield index - 1, []
