"""Small helpers shared by tests: polling and a private etcd that a test may stop and restart."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import requests


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.05,
               what: str = "condition"):
    """Poll until `condition()` is truthy; returns its value, or raises AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateEtcd:
    """An etcd of the test's own on loopback, with a data dir that survives restarts."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.client_port = free_port()
        self.peer_port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self) -> "PrivateEtcd":
        client = f"http://{self.address}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        log = open(self.workdir / "etcd.log", "ab")
        self.process = subprocess.Popen(
            [
                shutil.which("etcd") or "etcd", "--name", "test", "--data-dir", str(self.workdir / "data"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"test={peer}", "--enable-v2=true", "--log-level", "error",
            ],
            stdout=log, stderr=log,
        )
        wait_until(self._healthy, timeout=20)
        return self

    def _healthy(self) -> bool:
        try:
            return requests.get(f"http://{self.address}/health", timeout=1).ok
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def compact(self) -> int:
        """Compact history up to the current revision; returns that revision."""
        header = requests.post(f"http://{self.address}/v3/kv/range", json={"key": "AA=="}, timeout=5).json()["header"]
        revision = int(header["revision"])
        requests.post(f"http://{self.address}/v3/kv/compaction", json={"revision": revision, "physical": True}, timeout=5)
        return revision


def terminate(process: subprocess.Popen, timeout: float = 30.0, sig: int = 15) -> None:
    """Stop a child politely (SIGTERM by default), then for sure."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextlib.contextmanager
def serve_http(handler: type) -> Iterator[str]:
    """A threaded HTTP server on a free loopback port for the test's handler; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
