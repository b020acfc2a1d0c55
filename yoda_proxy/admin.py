"""Admin endpoint: JSON status, Prometheus metrics, and HAProxy's stats page behind basic auth.

GET /status   applied revision, last error, wiring counts (JSON)
GET /healthz  200 once the first config is applied and while HAProxy runs
GET /metrics  yoda-proxy metrics followed by HAProxy's own exporter
GET /stats    HAProxy stats page (basic auth, user `admin`, password YODA_ADMIN_PASSWORD)
"""

from __future__ import annotations

import base64
import hmac
import http.client
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yoda_proxy.reconciler import Reconciler

log = logging.getLogger("yoda_proxy.admin")
STATS_USER = "admin"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float = 5.0):
        super().__init__("localhost", timeout=timeout)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def haproxy_get(socket_path: Path, path: str) -> tuple[int, str, bytes]:
    conn = UnixHTTPConnection(socket_path)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", "text/plain"), response.read()
    finally:
        conn.close()


def authorized(header: str | None, password: str | None) -> bool:
    if not password or not header or not header.startswith("Basic "):
        return False
    try:
        user, _, given = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    user_ok = hmac.compare_digest(user.encode(), STATS_USER.encode())
    return hmac.compare_digest(given.encode(), password.encode()) and user_ok


class AdminHandler(BaseHTTPRequestHandler):
    server: AdminServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        route = self.path.split("?", 1)[0].split(";", 1)[0]
        rec = self.server.reconciler
        if route == "/status":
            body = dict(rec.status.as_json(), haproxy_running=rec.haproxy.running())
            self.send(200, "application/json", json.dumps(body).encode())
        elif route == "/healthz":
            up = rec.status.ready and rec.haproxy.running()
            self.send(200 if up else 503, "text/plain", b"ok\n" if up else b"haproxy down\n")
        elif route == "/metrics":
            text = rec.status.prometheus().encode()
            try:
                text += haproxy_get(self.server.stats_socket, "/metrics")[2]
            except OSError:
                pass  # HAProxy down: our own metrics still say so
            self.send(200, "text/plain; version=0.0.4", text)
        elif route == "/stats":
            if not authorized(self.headers.get("Authorization"), self.server.password):
                self.send(
                    401,
                    "application/json",
                    error("unauthorized", "stats need basic auth"),
                    {"WWW-Authenticate": 'Basic realm="yoda-proxy"'},
                )
                return
            try:
                self.send(*haproxy_get(self.server.stats_socket, self.path)[:3])
            except OSError:
                self.send(503, "application/json", error("unavailable", "haproxy is not running"))
        else:
            self.send(404, "application/json", error("not_found", f"no such page: {route}"))

    def send(self, status: int, ctype: str, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("admin %s", format % args)


def error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()


class AdminServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, reconciler: Reconciler, password: str | None):
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), AdminHandler)
        self.reconciler = reconciler
        self.password = password
        self.stats_socket = reconciler.work / "stats-http.sock"

    def start(self) -> AdminServer:
        threading.Thread(target=self.serve_forever, name="yoda-admin", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
