"""This proxy node in etcd: `proxy-nodes/<node>/info` while it runs, and the
wiring revision it has applied (`applied`), both on one lease.

A write that fails while etcd is away is remembered and retried by `flush()`;
a lost lease is replaced and every key rewritten.
"""

from __future__ import annotations

import json
import logging
import threading

from totem.contracts import yoda
from totem.store import Lease, Store, StoreError

log = logging.getLogger("yoda_proxy.announce")


class Announcer:
    def __init__(self, store: Store, prefix: str, node: str, info: dict, ttl: int = 10):
        self.store = store
        self.base, self.node = prefix, node
        self.key = yoda.proxy_node_prefix(prefix, node)
        self.info = json.dumps(info, sort_keys=True)
        self.ttl = ttl
        self.lease: Lease | None = None
        self.wanted: dict[str, str | None] = {yoda.INFO: self.info}
        self.written: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def applied(self, revision: str) -> None:
        self._set(yoda.APPLIED, revision)

    def error(self, message: str | None) -> None:
        self._set(yoda.ERROR, message)

    def _set(self, name: str, value: str | None) -> None:
        with self._lock:
            self.wanted[name] = value
        self.flush()

    def flush(self) -> bool:
        """Write what changed since the last successful write; False while etcd is away."""
        with self._lock:
            try:
                if self.lease is None:
                    self.lease = self.store.lease(self.ttl).keep_alive(on_lost=self._lost)
                    self.written = {}
                for name, value in self.wanted.items():
                    if self.written.get(name, "\0") == value:
                        continue
                    if value is None:
                        self.store.delete(yoda.proxy_node_key(self.base, self.node, name))
                    else:
                        self.store.put(yoda.proxy_node_key(self.base, self.node, name), value, lease=self.lease)
                    self.written[name] = value
                return True
            except Exception as exc:  # etcd away, or our lease expired meanwhile
                log.warning("cannot update %s (%s); will retry", self.key, exc)
                if "lease" in str(exc).lower():
                    self.lease, self.written = None, {}
                return False

    def _lost(self) -> None:
        log.warning("lease for %s expired; announcing again", self.key)
        with self._lock:
            self.lease = None
            self.written = {}

    def stop(self) -> None:
        with self._lock:
            lease, self.lease = self.lease, None
        if lease is not None:
            try:
                lease.revoke()
            except StoreError as exc:
                log.warning("cannot revoke lease for %s (%s); it expires by itself", self.key, exc)
