"""Health checks: an HTTP GET of the `totem.health` path, else a TCP connect."""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


def tcp_check(host: str, port: int, timeout: float) -> CheckResult:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return CheckResult(True, "connected")
    except OSError as exc:
        return CheckResult(False, f"tcp {host}:{port}: {exc}")


def http_check(host: str, port: int, path: str, timeout: float) -> CheckResult:
    """Healthy on a 2xx or 3xx answer within `timeout` seconds."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "yoda-discover", "Connection": "close"})
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return CheckResult(False, f"http {host}:{port}{path}: {exc}")
    finally:
        conn.close()
    return CheckResult(200 <= status < 400, f"http {host}:{port}{path}: {status}")


def check(host: str, port: int, path: str | None, timeout: float) -> CheckResult:
    return http_check(host, port, path, timeout) if path else tcp_check(host, port, timeout)
