"""Cluster state: one interface (`Store`), one adapter per etcd API, chosen by URL scheme.

store = connect()                       # TOTEM_ETCD_URL, default etcd://127.0.0.1:2379
store.put("/yoda/hosts/a/aliases/1", "a.localhost")
with store.lock("deploy/hello"):
    ...
store.watch("/yoda/", print)
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from totem.store.base import Change, Event, Lease, Store
from totem.store.errors import Compacted, StoreConflict, StoreError, StoreUnavailable
from totem.store.lock import Lock, LockLost
from totem.store.watch import Watcher

__all__ = [
    "Change",
    "Compacted",
    "Event",
    "Lease",
    "Lock",
    "LockLost",
    "Store",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "Watcher",
    "connect",
    "ADAPTERS",
]


def _etcd3(url: str) -> Store:
    from totem.store.etcd3 import Etcd3Store

    return Etcd3Store(url)


def _etcd2(url: str) -> Store:
    from totem.store.etcd2 import Etcd2Store

    return Etcd2Store(url)


ADAPTERS: dict[str, Callable[[str], Store]] = {
    "etcd": _etcd3,
    "http": _etcd3,
    "https": _etcd3,
    "etcd2": _etcd2,
}


def connect(url: str | None = None) -> Store:
    if url is None:
        from totem.settings import Settings

        url = Settings.from_env().etcd_url
    scheme = urlsplit(url).scheme
    if scheme not in ADAPTERS:
        raise ValueError(f"unknown store URL scheme {scheme!r}; use etcd:// or etcd2://")
    return ADAPTERS[scheme](url)
