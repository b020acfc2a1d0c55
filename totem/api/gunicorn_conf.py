"""How every Totem API runs under gunicorn (command-line options override these):

    gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9400 'orchestrator.app:create_app()'

Threaded workers, so that long-lived answers (a followed build log) hold one thread, not a whole
worker; and gunicorn's own refusals (414 URI too long, 431, a malformed request line) in the same
JSON error envelope as the services' answers, instead of gunicorn's HTML page."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gunicorn import util

worker_class = "gthread"
workers = 2
threads = 8
timeout = 60
graceful_timeout = 10
control_socket_disable = True  # several Totem APIs (and test copies) share one machine and home
limit_request_line = 8190  # gunicorn's default, named here because its refusal is documented (414)


def command(package: str, bind: str, *options: str) -> list[str]:
    """The argv that serves `package.app:create_app()` with this configuration (`options` override it)."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    return [gunicorn, "-c", f"python:{__name__}", "-b", bind, *options, f"{package}.app:create_app()"]


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    code = reason.lower().replace(" ", "_")
    body = json.dumps({"error": {"code": code, "message": mesg or reason, "details": {}}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


# gunicorn writes its refusals through this one function; the workers fork after this file is read
util.write_error = _json_error
