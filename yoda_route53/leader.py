"""Run the reconciler only while holding the etcd lock `yoda-route53/<zone>/<record>`.

The leader reconciles when the proxy nodes change (bursts are coalesced) and on
a fixed interval regardless, reading the nodes fresh from etcd each time, so a
missed watch event or a compacted history cannot leave DNS behind.
"""

from __future__ import annotations

import logging
import threading

from totem.contracts import yoda
from totem.store import Store, StoreError
from totem.waiting import Deadline, pause
from yoda_route53 import nodes
from yoda_route53.reconciler import Reconciler

log = logging.getLogger("yoda_route53.leader")


def lock_name(zone_id: str, record_name: str) -> str:
    return f"yoda-route53/{zone_id}/{record_name.rstrip('.')}"


class Leader:
    def __init__(
        self,
        store: Store,
        base: str,
        reconciler: Reconciler,
        interval: float = 60.0,
        debounce: float = 0.5,
        lock_ttl: int = 10,
        retry: float = 5.0,
    ):
        self.store = store
        self.base = base
        self.reconciler = reconciler
        self.interval = interval
        self.debounce = debounce
        self.retry = retry
        self.lock = store.lock(lock_name(reconciler.zone.id, reconciler.spec.name), lock_ttl)
        self.leading = threading.Event()
        self.reconciles = 0
        self._changed = threading.Event()

    def run(self, done: threading.Event) -> None:
        while not done.is_set():
            try:
                acquired = self.lock.acquire(blocking=True, timeout=1.0)
            except StoreError as exc:
                log.warning("cannot reach etcd for the leader lock: %s", exc)
                pause(1.0, done)
                continue
            if not acquired:
                continue
            log.info("leading %s", self.lock.key)
            try:
                self._lead(done)
            finally:
                self.leading.clear()
                try:
                    self.lock.release()
                except StoreError as exc:
                    log.warning("releasing the leader lock failed (its lease will expire): %s", exc)

    def _still_leader(self) -> bool:
        return not self.lock.lost.is_set()

    def _lead(self, done: threading.Event) -> None:
        watcher = self.store.watch(yoda.proxy_nodes_prefix(self.base), lambda event: self._changed.set())
        self.leading.set()
        next_full = Deadline(0)
        try:
            while not done.is_set() and self._still_leader():
                if not self._changed.is_set() and not next_full.expired:
                    self._changed.wait(min(0.25, next_full.remaining()))  # short: notice `done` soon
                    continue
                pause(self.debounce, done)
                self._changed.clear()
                next_full = Deadline(self.interval if self.reconcile_once() else self.retry)
        finally:
            watcher.stop()

    def reconcile_once(self) -> bool:
        try:
            if not self.lock.held:
                self.lock.lost.set()
                return False
            listed = self.store.list(yoda.proxy_nodes_prefix(self.base))
            live = nodes.live_nodes(self.base, listed, self.reconciler.spec.type)
            self.reconciler.reconcile(live, self._still_leader)
            self.reconciles += 1
            return True
        except Exception:
            log.exception("reconcile failed; retrying in %ss", self.retry)
            return False
