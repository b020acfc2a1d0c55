"""`yoda-discover watch`: one per Docker host; registers every healthy totem-labelled container.

Docker events drive registration (start) and immediate removal (die, stop,
kill, ...). A periodic full resync against the running containers adds what
was missed, removes what is gone, and deletes this host's endpoints in etcd
that no running container accounts for. While the Docker API does not answer
(an engine restart) nothing is removed: each endpoint stays to its own health
check; the events stream reopens and resyncs once the engine is back.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from totem.contracts import yoda
from totem.contracts.labels import NODE, UPSTREAM, is_instance
from totem.store import Store, StoreError
from totem.waiting import pause
from yoda_discover.docker_events import DockerEvents, container_event, means_gone, means_started
from yoda_discover.endpoint import endpoint_registration
from yoda_discover.labels import LabelError
from yoda_discover.registrar import CheckPolicy, Registration

log = logging.getLogger("yoda_discover.watch")


class DockerWatcher:
    def __init__(
        self,
        store: Store,
        client: Any,
        base: str,
        host_ip: str = "127.0.0.1",
        policy: CheckPolicy = CheckPolicy(),
        resync_interval: float = 30.0,
        selectors: tuple[str, ...] = (),
    ):
        self.store = store
        self.client = client
        self.base = base
        self.host_ip = host_ip
        self.policy = policy
        self.resync_interval = resync_interval
        self.selectors = tuple(selectors)  # extra "key" or "key=value" label filters
        self.registrations: dict[str, Registration] = {}
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._events = DockerEvents(
            client, self.handle_event, self.resync, filters={"label": [UPSTREAM, *self.selectors]}
        )
        self._thread = threading.Thread(target=self._resync_loop, name="discover-resync", daemon=True)

    # -- life cycle -----------------------------------------------------------
    def start(self) -> DockerWatcher:
        self._events.start()
        self._thread.start()
        return self

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._events.connected.wait(timeout)

    def stop(self, deregister: bool = True) -> None:
        self._stopped.set()
        self._events.stop()
        with self._lock:
            registrations, self.registrations = list(self.registrations.values()), {}
        for registration in registrations:
            registration.stop(deregister)

    # -- events -----------------------------------------------------------------
    def handle_event(self, event: dict) -> None:
        action, container_id, attributes = container_event(event)
        if not container_id:
            return
        if means_gone(action, attributes):
            self.remove(container_id, action)
        elif means_started(action):
            self.add(container_id, attributes)

    def add(self, container_id: str, labels: dict[str, str]) -> None:
        with self._lock:
            if self._stopped.is_set() or container_id in self.registrations:
                return
            try:
                registration = endpoint_registration(
                    self.store, self.base, container_id, labels, self.host_ip, self.policy
                )
            except LabelError as exc:
                log.warning("container %s not registered: %s", container_id[:12], exc)
                return
            self.registrations[container_id] = registration.start()

    def remove(self, container_id: str, why: str) -> None:
        with self._lock:
            registration = self.registrations.pop(container_id, None)
        if registration is not None:
            log.info("container %s %s", container_id[:12], why)
            registration.stop()

    # -- resync -----------------------------------------------------------------
    def _resync_loop(self) -> None:
        while not pause(self.resync_interval, self._stopped):
            try:
                self.resync()
            except Exception:
                log.exception("resync failed; retrying in %ss", self.resync_interval)

    def resync(self) -> None:
        """Make the registrations match the running containers, and etcd match both."""
        endpoints = self.store.list(yoda.upstreams_prefix(self.base))
        with self._lock:
            tracked = set(self.registrations)
        every = self.client.api.containers(filters={"label": NODE, "status": "running"})
        mine = self.client.api.containers(filters={"label": [UPSTREAM, *self.selectors], "status": "running"})
        running = {c["Id"]: c.get("Labels") or {} for c in mine if is_instance(c.get("Labels"))}
        for container_id in tracked - set(running):
            self.remove(container_id, "is not running (resync)")
        for container_id, labels in running.items():
            self.add(container_id, labels)
        with self._lock:
            registrations = list(self.registrations.values())
        for registration in registrations:  # outside the lock: events must not wait on etcd round trips
            registration.reassert()
        known = {(c.get("Labels") or {}).get(NODE) for c in every} | {r.key for r in registrations}
        self._delete_leftovers(endpoints, known)

    def _delete_leftovers(self, endpoints: dict[str, str], known: set) -> None:
        """Delete this host's endpoints whose node no running container carries."""
        for key, value in endpoints.items():
            parsed = yoda.parse_endpoint_key(self.base, key)
            if parsed is None or key in known or parsed[1] in known:
                continue
            if value.rsplit(":", 1)[0] != self.host_ip:
                continue
            try:
                if self.store.delete(key, prev_value=value):
                    log.info("deleted leftover endpoint %s = %s", key, value)
            except StoreError as exc:
                log.warning("cannot delete leftover %s: %s", key, exc)
