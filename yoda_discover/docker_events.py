"""The Docker events stream for containers, followed in a thread and reopened after errors.

`on_connected` runs each time the stream (re)opens, after the request is made and
before events are read, so a full resync there misses nothing. While the daemon is away
(an engine restart) nothing is delivered: registrations stay to their own health checks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from totem.waiting import pause

log = logging.getLogger("yoda_discover.docker_events")

Event = dict[str, Any]


class DockerEvents:
    def __init__(
        self,
        client: Any,
        on_event: Callable[[Event], None],
        on_connected: Callable[[], None] = lambda: None,
        filters: dict[str, Any] | None = None,
        max_backoff: float = 1.0,  # a local engine restarting is back within seconds: reconnect promptly
    ):
        self.client = client
        self.on_event = on_event
        self.on_connected = on_connected
        self.filters = {"type": "container", **(filters or {})}
        self.max_backoff = max_backoff
        self.connected = threading.Event()
        self._stopped = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name="docker-events", daemon=True)

    def start(self) -> DockerEvents:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a broken stream may fail; it is closed either way
                pass
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopped.is_set():
            try:
                self._stream = self.client.api.events(decode=True, filters=self.filters)
                if self._stopped.is_set():
                    break
                self.on_connected()
                self.connected.set()
                backoff = 0.1
                for event in self._stream:
                    self._deliver(event)
                if not self._stopped.is_set():
                    log.warning("docker events stream ended; reconnecting")
            except Exception as exc:
                if self._stopped.is_set():
                    break
                log.warning("docker events stream failed (%s); reconnecting in %.1fs", exc, backoff)
                pause(backoff, self._stopped)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                self.connected.clear()

    def _deliver(self, event: Event) -> None:
        try:
            self.on_event(event)
        except Exception:
            log.exception("handling docker event %s failed", event.get("Action"))


def container_event(event: Event) -> tuple[str, str, dict[str, str]]:
    """(action, container id, attributes) of a container event."""
    actor = event.get("Actor") or {}
    action = (event.get("Action") or event.get("status") or "").split(":")[0]
    return action, actor.get("ID") or event.get("id") or "", actor.get("Attributes") or {}


_STOP_SIGNALS = {"9", "15", "KILL", "TERM", "SIGKILL", "SIGTERM"}
_GONE = {"die", "stop", "destroy", "pause", "oom"}


def means_gone(action: str, attributes: dict[str, str]) -> bool:
    """The container is going away: stopped, dead, paused, or sent SIGKILL/SIGTERM."""
    if action == "kill":
        return attributes.get("signal", "").upper() in _STOP_SIGNALS
    return action in _GONE


def means_started(action: str) -> bool:
    return action in {"start", "unpause"}
