"""`yoda-discover register <container>`: the sidekick for one app instance.

Registers the container's endpoint while it is healthy; deregisters and returns
when the container goes away or `done` is set (SIGTERM/SIGINT). While the Docker daemon
does not answer (an engine restart) the endpoint stays, to its own health check.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from docker.errors import NotFound

from totem.store import Store
from totem.waiting import WaitAborted, WaitTimeout, pause, wait
from yoda_discover.docker_events import DockerEvents, container_event, means_gone
from yoda_discover.endpoint import endpoint_registration
from yoda_discover.errors import DiscoverError
from yoda_discover.registrar import CheckPolicy, Registration

log = logging.getLogger("yoda_discover.sidekick")


class ContainerNotRunning(DiscoverError, RuntimeError):
    """The container did not run within the wait allowed."""


def _running(client: Any, container: str) -> dict | None:
    """The container's details while it runs, None once it stopped or is gone. Raises while the
    daemon does not answer: that says nothing about the container (with live-restore it keeps
    running through an engine restart), so the endpoint stays to its own health check."""
    try:
        info = client.api.inspect_container(container)
    except NotFound:
        return None
    return info if (info.get("State") or {}).get("Running") else None


def _gone(client: Any, container: str) -> bool:
    try:
        return _running(client, container) is None
    except Exception as exc:  # the daemon is away (restarting): ask again on the next poll
        log.info("inspect %s: %s", container, exc)
        return False


def run_sidekick(
    store: Store,
    client: Any,
    base: str,
    container: str,
    done: threading.Event,
    host_ip: str = "127.0.0.1",
    policy: CheckPolicy = CheckPolicy(),
    wait_running: float = 60.0,
    poll: float = 5.0,
) -> Registration:
    """Blocks until the container goes away or `done` is set; the endpoint is deleted on return."""
    try:
        info = wait(
            lambda: _running(client, container),
            wait_running,
            interval=min(poll, 0.5),
            abort=done,
            what=f"container {container} running",
            ignoring=(Exception,),  # the daemon not answering yet
        )
    except WaitAborted:
        raise ContainerNotRunning(f"{container}: stopped before it ran") from None
    except WaitTimeout:
        raise ContainerNotRunning(f"{container} is not running") from None
    container_id = info["Id"]
    labels = (info.get("Config") or {}).get("Labels") or {}
    registration = endpoint_registration(store, base, container_id, labels, host_ip, policy)

    def on_event(event: dict) -> None:
        action, _, attributes = container_event(event)
        if means_gone(action, attributes):
            log.info("container %s: %s", container, action)
            done.set()

    def on_connected() -> None:  # it may have gone before the stream (re)opened
        if _gone(client, container_id):
            done.set()

    events = DockerEvents(client, on_event, on_connected, filters={"container": container_id}).start()
    registration.start()
    try:
        while not pause(poll, done):
            if _gone(client, container_id):  # in case an event was missed
                break
    finally:
        registration.stop()
        events.stop()
    return registration
