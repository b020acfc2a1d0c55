"""`yoda-discover watch` ships the output of every Totem instance on its Docker host that carries a
`totem.syslog` label (docs/logging.md): one follower per container and stream (log_follower.py),
one connection per collector (syslog_sender.py), one cursor per stream (log_cursor.py).

Docker events start a container's followers (start) and drop its cursors (destroy); a periodic
resync follows what the events missed, and reads once to the end the stopped containers it has
not finished with. Cursors live under `<state dir>/<engine id>/`, so shippers of several engines
may share a state dir.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import Any

from totem import syslog_url
from totem.contracts.labels import NODE, SYSLOG, is_instance
from totem.waiting import pause
from yoda_discover.docker_events import DockerEvents, container_event
from yoda_discover.log_cursor import Cursors
from yoda_discover.log_follower import Follower
from yoda_discover.syslog_sender import Sender

log = logging.getLogger("yoda_discover.logs")
STREAMS = ("stdout", "stderr")


class LogShipper:
    def __init__(
        self,
        client: Any,
        state_dir: Path,
        selectors: tuple[str, ...] = (),
        resync_interval: float = 30.0,
        ca_file: str | None = None,
        max_backoff: float = 2.0,
    ):
        self.client = client
        self.state_dir = state_dir
        self.selectors = tuple(selectors)
        self.resync_interval = resync_interval
        self.ca_file = ca_file
        self.max_backoff = max_backoff
        self.hostname = socket.gethostname()
        self.cursors: Cursors | None = None
        self.followers: dict[tuple[str, str], Follower] = {}
        self.senders: dict[str, Sender] = {}
        self._finished: set[str] = set()  # stopped containers already read to their end
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._events = DockerEvents(client, self._on_event, self.resync, filters={"label": [SYSLOG, *self.selectors]})
        self._thread = threading.Thread(target=self._resync_loop, name="ship-resync", daemon=True)

    def start(self) -> LogShipper:
        info = self.client.info()
        self.hostname = info.get("Name") or self.hostname
        engine = "".join(c for c in str(info.get("ID", "engine")) if c.isalnum()) or "engine"
        self.cursors = Cursors(self.state_dir / engine)
        self._events.start()
        self._thread.start()
        return self

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._events.connected.wait(timeout)

    def stop(self, timeout: float = 2.0) -> None:
        self._stopped.set()
        self._events.stop()
        with self._lock:
            followers = list(self.followers.values())
        for follower in followers:
            follower.close_stream()
        for follower in followers:
            follower.join(timeout)
        for sender in self.senders.values():
            sender.close()
        if self.cursors is not None:
            self.cursors.write_all()

    # -- events and resync -------------------------------------------------------------------------
    def _on_event(self, event: dict) -> None:
        action, container_id, attributes = container_event(event)
        if not container_id:
            return
        if action in ("start", "restart", "unpause"):
            self.follow(container_id, attributes)
        elif action == "destroy":
            self.forget(container_id)

    def _resync_loop(self) -> None:
        while not pause(self.resync_interval, self._stopped):
            try:
                self.resync()
            except Exception:
                log.exception("log shipping resync failed; retrying in %ss", self.resync_interval)

    def resync(self) -> None:
        """Follow every running labelled instance; finish the stopped ones; drop the cursors of
        containers this engine no longer has."""
        every = {c["Id"] for c in self.client.api.containers(all=True)}
        mine = self.client.api.containers(all=True, filters={"label": [SYSLOG, *self.selectors]})
        for container in mine:
            labels = container.get("Labels") or {}
            running = container.get("State") == "running"
            if running or container["Id"] not in self._finished:
                self.follow(container["Id"], labels)
        if self.cursors is not None:
            for gone in self.cursors.known() - every:
                self.forget(gone)

    # -- followers ---------------------------------------------------------------------------------
    def _sender(self, url: str) -> Sender | None:
        try:
            destination = syslog_url.parse(url)
        except syslog_url.SyslogUrlError as exc:
            log.warning("not shipping to %r: %s", url, exc)
            return None
        with self._lock:
            key = str(destination)
            if key not in self.senders:
                self.senders[key] = Sender(destination, self.ca_file, self.max_backoff)
            return self.senders[key]

    def follow(self, container_id: str, labels: dict[str, str]) -> None:
        if self._stopped.is_set() or self.cursors is None or not is_instance(labels) or not labels.get(SYSLOG):
            return
        sender = self._sender(labels[SYSLOG])
        if sender is None:
            return
        with self._lock:
            self._finished.add(container_id)  # read to its end by these followers
            for stream in STREAMS:
                current = self.followers.get((container_id, stream))
                if current is not None and current.alive:
                    continue
                follower = Follower(
                    self.client, container_id, labels, stream, sender, self.cursors, self.hostname, self._stopped
                )
                self.followers[(container_id, stream)] = follower.start()
        log.debug("shipping %s to %s", labels.get(NODE, container_id[:12]), sender.destination)

    def forget(self, container_id: str) -> None:
        with self._lock:
            followers = [self.followers.pop((container_id, s), None) for s in STREAMS]
            self._finished.discard(container_id)
        for follower in followers:
            if follower is not None:
                follower.close_stream()
                follower.join(1.0)
        if self.cursors is not None:
            self.cursors.forget(container_id)
