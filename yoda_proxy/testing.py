"""Helpers for tests and benchmarks: loopback HTTP backends and a yoda-proxy subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from totem.net import free_port
from totem.waiting import wait

REPO = Path(__file__).resolve().parent.parent


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 65536  # one write per response (flushed by http.server after each request)
    server: Backend

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/health") and not self.server.healthy:
            return self._reply(503, {"name": self.server.name, "healthy": False})
        self.server.hits += 1
        self._reply(
            200,
            {"name": self.server.name, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}},
        )

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class Backend(ThreadingHTTPServer):
    """An app instance on 127.0.0.1 answering JSON with its name, path and request headers."""

    daemon_threads = True

    def __init__(self, name: str, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.name = name
        self.healthy = True
        self.hits = 0
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # health checks and closed keep-alive connections reset sockets; that is normal

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def local_etcd_url(scheme: str = "etcd") -> str:
    """The etcd of TOTEM_ETCD_URL (the local stack's by default), through the adapter `scheme`."""
    from totem.settings import Settings

    return f"{scheme}://" + Settings.from_env().etcd_url.split("://", 1)[1]


class ProxyProcess:
    """`python -m yoda_proxy` on free loopback ports with a private work dir and YODA_BASE."""

    def __init__(
        self,
        etcd_url: str | None = None,
        base: str | None = None,
        password: str = "test-admin-password",
        extra: list[str] | None = None,
    ):
        self.etcd_url = etcd_url or local_etcd_url()
        self.base = base or f"/test-{uuid.uuid4().hex[:12]}/yoda"
        self.http, self.https, self.admin = free_port(), free_port(), free_port()
        self.node = f"node-{uuid.uuid4().hex[:8]}"
        self.work = Path(tempfile.mkdtemp(prefix="yp-"))
        self.password = password
        self.extra = extra or []
        self.process: subprocess.Popen | None = None

    @property
    def prefix(self) -> str:
        return self.base + "/"

    def start(self) -> ProxyProcess:
        env = dict(
            os.environ,
            YODA_ADMIN_PASSWORD=self.password,
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "yoda_proxy",
                "--etcd-url",
                self.etcd_url,
                "--base",
                self.base,
                "--node",
                self.node,
                "--http",
                f"127.0.0.1:{self.http}",
                "--https",
                f"127.0.0.1:{self.https}",
                "--admin",
                f"127.0.0.1:{self.admin}",
                "--work-dir",
                str(self.work),
                *self.extra,
            ],
            env=env,
            stdout=open(self.work / "yoda-proxy.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait(
            lambda: self.status()["ready"] and self.status()["haproxy_running"],
            20,
            interval=0.02,
            what=f"yoda-proxy {self.node} ready",
            ignoring=(requests.RequestException,),
        )
        return self

    def status(self) -> dict:
        return requests.get(f"http://127.0.0.1:{self.admin}/status", timeout=2).json()

    def url(self, path: str = "/", tls: bool = False) -> str:
        return f"https://127.0.0.1:{self.https}{path}" if tls else f"http://127.0.0.1:{self.http}{path}"

    def get(self, host: str, path: str = "/", **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}), Host=host)
        return requests.get(self.url(path), headers=headers, timeout=5, allow_redirects=False, **kwargs)

    def log(self) -> str:
        return (self.work / "yoda-proxy.log").read_text(errors="replace")

    def stop(self, keep_work_dir: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._kill_leftover_haproxy()
        if not keep_work_dir:
            shutil.rmtree(self.work, ignore_errors=True)

    def _kill_leftover_haproxy(self) -> None:
        pidfile = self.work / "haproxy.pid"
        if pidfile.exists():
            for line in pidfile.read_text().split():
                if line.isdigit():
                    try:
                        os.killpg(int(line), signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass


def commit(store, proxy: ProxyProcess, puts: dict[str, str], deletes: tuple[str, ...] = ()) -> None:
    """Write `puts` and remove every key under each of `deletes` (both relative to the proxy's base),
    then a new revision; until this proxy has applied it."""
    for key, value in puts.items():
        store.put(proxy.prefix + key, value)
    for prefix in deletes:
        store.delete_prefix(proxy.prefix + prefix)
    revision = uuid.uuid4().hex
    store.put(proxy.prefix + "revision", revision)
    wait(lambda: store.get(f"{proxy.prefix}proxy-nodes/{proxy.node}/applied") == revision, timeout=15)


@contextlib.contextmanager
def running_proxy(store, **options) -> Iterator[ProxyProcess]:
    """A started ProxyProcess; afterwards stopped and its YODA_BASE removed from `store` (the tests' fixture)."""
    proxy = ProxyProcess(**options).start()
    try:
        yield proxy
    finally:
        proxy.stop()
        store.delete_prefix(proxy.prefix)
