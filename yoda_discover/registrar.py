"""One leased key kept in etcd while a check passes: an app endpoint or a proxy node.

A background thread runs the check. The first pass writes the key with a lease
that is kept alive; `fall` consecutive failures delete it; `stop()` deletes it at
once. If the lease is lost (etcd away longer than the TTL) the next pass writes
the key again under a new lease.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from totem import metrics
from totem.store import Lease, Store, StoreError
from totem.waiting import pause
from yoda_discover.health import CheckResult

log = logging.getLogger("yoda_discover.registrar")


@dataclass(frozen=True)
class CheckPolicy:
    interval: float = 1.0  # seconds between checks while registered
    timeout: float = 2.0  # seconds a single check may take
    fall: int = 3  # consecutive failures that deregister
    ttl: int = 5  # lease TTL in seconds
    startup_interval: float = 0.1  # longest pause between checks until the first pass
    startup_first: float = 0.01  # the first of those pauses; each next one doubles up to startup_interval


class Registration:
    def __init__(self, store: Store, key: str, value: str, check: Callable[[], CheckResult], policy: CheckPolicy):
        self.store = store
        self.key = key
        self.value = value
        self.check = check
        self.policy = policy
        self.failures = 0
        self.last_result: CheckResult | None = None
        self._lease: Lease | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"check {key}", daemon=True)

    @property
    def registered(self) -> bool:
        return self._lease is not None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def start(self) -> Registration:
        self._thread.start()
        return self

    def stop(self, deregister: bool = True) -> None:
        """End the checks; delete the key now (or let the lease run out)."""
        self._stopped.set()
        with self._lock:
            if deregister:
                self._delete("stopped")
            elif self._lease is not None:
                self._lease.stop()
                self._lease = None

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def reassert(self) -> None:
        """Write the key again if it went missing while registered (resync)."""
        with self._lock:
            if self._lease is None or self.stopped:
                return
            try:
                if self.store.get(self.key) != self.value:
                    log.info("re-writing %s (missing or changed in etcd)", self.key)
                    self.store.put(self.key, self.value, self._lease)
            except StoreError as exc:
                log.warning("resync of %s failed: %s", self.key, exc)

    # -- loop -------------------------------------------------------------------
    def _run(self) -> None:
        startup = self.policy.startup_first  # a just-started app answers within milliseconds: look again soon
        while not self.stopped:
            try:
                result = self.check()
            except Exception as exc:  # a check that crashes counts as failed
                result = CheckResult(False, f"check failed: {exc!r}")
            self.last_result = result
            if self.stopped:
                return
            if result.ok:
                self.failures = 0
                self._register()
            else:
                self.failures += 1
                if self.failures >= self.policy.fall and self.registered:
                    with self._lock:
                        self._delete(f"{self.failures} failed checks: {result.detail}")
            if self.registered:
                idle = self.policy.interval
            else:
                idle = min(startup, self.policy.startup_interval, self.policy.interval)
                startup = min(startup * 2, self.policy.startup_interval)
            pause(idle, self._stopped)

    def _register(self) -> None:
        with self._lock:
            if self._lease is not None or self.stopped:
                return
            try:
                lease = self.store.lease(self.policy.ttl)
                self.store.put(self.key, self.value, lease)
            except StoreError as exc:
                log.warning("cannot register %s: %s", self.key, exc)
                return
            self._lease = lease.keep_alive(on_lost=lambda: self._lease_lost(lease))
            log.info("registered %s = %s", self.key, self.value)
            metrics.DISCOVER_REGISTRATIONS.labels(event="registered").inc()

    def _lease_lost(self, lease: Lease) -> None:
        with self._lock:
            if self._lease is lease:
                log.warning("lease for %s expired; will register again on the next pass", self.key)
                metrics.DISCOVER_REGISTRATIONS.labels(event="lost").inc()
                self._lease = None

    def _delete(self, reason: str) -> None:
        """Caller holds the lock."""
        lease, self._lease = self._lease, None
        if lease is None:
            return
        lease.stop()
        try:
            self.store.delete(self.key, prev_value=self.value)
            lease.revoke()
            log.info("deregistered %s (%s)", self.key, reason)
            metrics.DISCOVER_REGISTRATIONS.labels(event="deregistered").inc()
        except StoreError as exc:
            log.warning("cannot delete %s (%s); its lease will expire: %s", self.key, reason, exc)
