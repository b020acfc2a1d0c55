"""A process's registration in etcd (totem/contracts/services.py): its metrics address under a
leased key, refreshed from a daemon thread, written again when the lease was lost (etcd away
longer than the TTL), deleted on `stop`. etcd being away never stops the process."""

from __future__ import annotations

import logging
import os
import socket
import threading

from totem.contracts import services
from totem.settings import MetricsSettings, Settings
from totem.store import Lease, Store, StoreError, connect
from totem.waiting import pause

log = logging.getLogger("totem.service_registry")


class Announcement:
    def __init__(self, store: Store, key: str, value: str, ttl: int):
        self.store, self.key, self.value, self.ttl = store, key, value, ttl
        self._lease: Lease | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"announce {key}", daemon=True)

    def start(self) -> Announcement:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._lease is None or not self._lease.refresh():
                    lease = self.store.lease(self.ttl)
                    self.store.put(self.key, self.value, lease)
                    self._lease = lease
                    log.info("announced %s = %s", self.key, self.value)
            except StoreError as exc:
                log.warning("cannot announce %s: %s", self.key, exc)
                self._lease = None
            pause(max(self.ttl / 3.0, 0.5), self._stop)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        lease, self._lease = self._lease, None
        try:
            self.store.delete(self.key, prev_value=self.value)
            if lease is not None:
                lease.revoke()
        except StoreError as exc:
            log.warning("cannot withdraw %s (its lease will expire): %s", self.key, exc)


def announce(service: str, metrics: str, environ: dict[str, str] | None = None) -> Announcement | None:
    """Announce `service`'s metrics at `metrics` (host:port) in this process's name; None when the
    settings are unusable (logged: metrics are never worth a process)."""
    try:
        settings, options = Settings.from_env(environ), MetricsSettings.from_env(environ)
    except ValueError as exc:
        log.warning("%s: not announcing its metrics: %s", service, exc)
        return None
    host, pid = socket.gethostname(), os.getpid()
    instance = f"{host}-{pid}"
    key = services.service_key(options.services_prefix, service, instance)
    value = services.registration(service, instance, metrics, pid, host)
    return Announcement(connect(settings.etcd_url), key, value, options.services_ttl).start()


def started(argv: list[str]):
    """A process of its own beside a process that forks (gunicorn's master, a Celery worker's main
    process): no thread of the forking process may hold a lock (a log stream's) when it forks, or the
    child waits on it forever. The process runs `python -m` with `argv` and ends with `ended`."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", *argv], stdin=subprocess.DEVNULL)


def ended(process) -> None:
    """Stop a process from `started` (SIGTERM: it withdraws its key; else its lease expires)."""
    import subprocess

    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def hold(announcement: Announcement | None) -> None:
    """Keep `announcement` until SIGTERM or SIGINT, or until the process that started this one is
    gone; then withdraw it."""
    import signal

    parent, done = os.getppid(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(1.0) and os.getppid() == parent:
        pass
    if announcement is not None:
        announcement.stop()


def main(args: list[str]) -> int:
    """`python -m totem.service_registry SERVICE HOST:PORT`: the announcement of gunicorn's master,
    from a process of its own (`started`)."""
    import sys

    from totem import logs

    if len(args) != 2:
        print("usage: python -m totem.service_registry SERVICE HOST:PORT", file=sys.stderr)
        return 2
    service, metrics = args
    logs.bootstrap(f"{service}-announce")
    hold(announce(service, metrics))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
