"""This proxy node in etcd: `proxy-nodes/<node>/info` while it runs, the wiring revision it
has applied (`applied`), the entries that revision left out (`skipped`, JSON) and why (`error`),
all on one lease. `skipped` and `error` are written before `applied`: a deployer that sees the
revision acknowledged also sees what was skipped in it.

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
ORDER = (yoda.INFO, yoda.SKIPPED, yoda.ERROR, yoda.APPLIED)
MAX_SKIPPED = 2000  # entries published; the rest is in /status and the log


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

    def acknowledge(self, revision: str | None, skipped: dict[str, str]) -> None:
        """`revision` is applied, except the `skipped` entries ({entity key: why})."""
        shown = dict(sorted(skipped.items())[:MAX_SKIPPED])
        with self._lock:
            self.wanted[yoda.SKIPPED] = json.dumps({k: v[:300] for k, v in shown.items()}) if shown else None
            self.wanted[yoda.ERROR] = "; ".join(f"{k}: {v}" for k, v in list(shown.items())[:10]) or None
            if revision:
                self.wanted[yoda.APPLIED] = revision
        self.flush()

    def flush(self) -> bool:
        """Write what changed since the last successful write; False while etcd is away."""
        with self._lock:
            try:
                if self.lease is None:
                    self.lease = self.store.lease(self.ttl).keep_alive(on_lost=self._lost)
                    self.written = {}
                for name in (n for n in ORDER if n in self.wanted):
                    value = self.wanted[name]
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
