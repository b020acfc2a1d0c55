"""The engines of this process: one client per Docker host, and which hosts answer.

Hosts are pinged in parallel with a short timeout and the answer is remembered a few seconds, so
an operation over several hosts skips a dead one at once instead of waiting out a long timeout on
each call; a call that fails to reach a host marks it down until its next ping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from contextlib import contextmanager

import docker
import requests
from docker.errors import DockerException

from deployer.engines import Access, EngineRefused, connect
from deployer.errors import DeployerError

log = logging.getLogger("deployer.engines")
PING_TIMEOUT = 2.0  # seconds a host has to answer a ping
CALL_TIMEOUT = 30.0  # seconds a call may wait on an engine that answered its ping
REMEMBER = 5.0  # seconds a ping's answer stands
# what a host that does not answer raises (an engine's own errors, e.g. a 500, are not among them)
UNREACHABLE = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)


class HostDown(DeployerError, RuntimeError):
    """No Docker host, or not the one needed, answers; the message names them."""


class EnginePool:
    def __init__(self, access: Access):
        self.access = access
        self._clients: dict[str, docker.DockerClient] = {}
        self._seen: dict[str, tuple[float, bool]] = {}  # url → (when, answered)
        self._lock = threading.Lock()

    def answering(self, urls: Iterable[str], fresh: bool = False) -> tuple[list[str], list[str]]:
        """(the hosts that answer, those that do not), in the order given; `fresh` pings them all now."""
        urls = list(dict.fromkeys(urls))
        now = time.monotonic()
        due = [u for u in urls if fresh or now - self._seen.get(u, (-REMEMBER, False))[0] >= REMEMBER]
        if due:
            self._ping_all(due)
        up = [u for u in urls if self._seen[u][1]]
        return up, [u for u in urls if u not in up]

    def client(self, url: str) -> docker.DockerClient:
        """The host's client; HostDown when it does not answer (now, or at its last ping)."""
        if not self.answering([url])[0]:
            raise HostDown(f"{url} not answering")
        return self._clients[url]

    @contextmanager
    def reaching(self, url: str) -> Iterator[None]:
        """Work on one host; if it does not answer, or stops answering meanwhile, it is marked down
        and the work skipped (the host's own errors, a 404 or a 500, still raise)."""
        try:
            yield
        except (HostDown, *UNREACHABLE) as exc:
            self.failed(url, exc)

    def failed(self, url: str, exc: BaseException) -> None:
        """A call to `url` did not reach it: down until its next ping."""
        log.warning("%s not answering: %s", url, type(exc).__name__)
        with self._lock:
            self._seen[url] = (time.monotonic(), False)

    def _ping_all(self, urls: list[str]) -> None:
        pool = ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="ping")
        futures = {url: pool.submit(self._ping, url) for url in urls}
        wait_all(futures.values(), timeout=PING_TIMEOUT + 1)  # bounded whatever the transport (ssh) does
        pool.shutdown(wait=False)
        for url, future in futures.items():
            answered = future.done() and future.result()  # EngineRefused is raised here
            with self._lock:
                self._seen[url] = (time.monotonic(), answered)

    def _ping(self, url: str) -> bool:
        try:
            client = self._clients.get(url)
            if client is None:
                client = connect(url, self.access, PING_TIMEOUT)  # asks the API version: the first ping
                client.api.timeout = CALL_TIMEOUT
                with self._lock:
                    kept = self._clients.setdefault(url, client)
                if kept is not client:  # another thread's ping made one meanwhile
                    client.close()
            else:
                client.api.get(f"{client.api.base_url}/_ping", timeout=PING_TIMEOUT).raise_for_status()
            return True
        except EngineRefused:
            raise
        except (DockerException, requests.RequestException, OSError) as exc:
            log.info("%s does not answer: %s", url, type(exc).__name__)
            return False
