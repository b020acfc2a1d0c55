"""One connection to a syslog collector, shared by every stream shipped there from this host.

`send` writes octet-counted frames or says it could not (False): the collector is down, refused
the connection or closed it. It never waits on a dead collector: after a failure it does not try
again before the backoff (doubling up to `max_backoff`) has passed; `wait_ready` sleeps until a
connection is up. The collector never writes syslog data on the connection, so a socket that reads
end-of-stream was closed by it: that is checked before each write, so lines are not written into a
connection the collector already dropped (they would be lost). Over TLS a readable socket may only
hold TLS records (a TLS 1.3 server's session tickets), which are read and are no reason to close.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
import time

from totem.syslog_url import Destination
from totem.waiting import pause

log = logging.getLogger("yoda_discover.syslog")


class Sender:
    def __init__(
        self,
        destination: Destination,
        ca_file: str | None = None,
        max_backoff: float = 2.0,
        timeout: float = 5.0,
    ):
        self.destination = destination
        self.ca_file = ca_file
        self.max_backoff = max_backoff
        self.timeout = timeout  # a write that long stuck (a collector that stopped reading) fails
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._retry_at = 0.0
        self._backoff = 0.1
        self._down_since: float | None = None

    def _open(self) -> socket.socket:
        target = (self.destination.host, self.destination.port)
        raw = socket.create_connection(target, timeout=self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.destination.tls:
            return raw
        context = ssl.create_default_context(cafile=self.ca_file)
        return context.wrap_socket(raw, server_hostname=self.destination.host)

    def _connected(self) -> socket.socket | None:
        """The open connection, a new one, or None (down; not retried before the backoff)."""
        if self._sock is not None:
            return self._sock
        if time.monotonic() < self._retry_at:
            return None
        try:
            self._sock = self._open()
        except (OSError, ssl.SSLError) as exc:
            self._failed(exc)
            return None
        if self._down_since is not None:
            log.info("syslog %s reachable again after %.1fs", self.destination, time.monotonic() - self._down_since)
            self._down_since = None
        return self._sock

    def _failed(self, exc: BaseException) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("syslog %s unreachable (%s); lines wait in the Docker logs", self.destination, exc)
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.max_backoff)

    def send(self, data: bytes) -> bool:
        with self._lock:
            sock = self._connected()
            if sock is None:
                return False
            try:
                if self._closed_by_collector(sock):
                    raise ConnectionResetError("closed by the collector")
                sock.sendall(data)
            except (OSError, ssl.SSLError) as exc:
                self._failed(exc)
                return False
            self._backoff = 0.1
            return True

    def _closed_by_collector(self, sock: socket.socket) -> bool:
        """The collector closed `sock`: it reads end-of-stream. Whatever else it sent (TLS records,
        stray bytes) is read and dropped."""
        if not select.select([sock], [], [], 0)[0]:
            return False
        sock.setblocking(False)
        try:
            return sock.recv(4096) == b""
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return False  # only TLS records, no data and no end
        finally:
            sock.settimeout(self.timeout)

    def wait_ready(self, stopped: threading.Event) -> bool:
        """True once a connection is up; False when `stopped` is set first."""
        while not stopped.is_set():
            with self._lock:
                if self._connected() is not None:
                    return True
                delay = max(0.01, self._retry_at - time.monotonic())
            pause(delay, stopped)
        return False

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
