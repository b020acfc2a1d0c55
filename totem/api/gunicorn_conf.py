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


# -- metrics (docs/metrics.md): one multiprocess directory per master, one registration per master --
def _service(server) -> str:
    """`orchestrator.app:create_app()` → `orchestrator`."""
    return str(getattr(server.app, "app_uri", None) or "totem").split(".", 1)[0].split(":", 1)[0]


def on_starting(server) -> None:
    from totem import metrics_process  # imports nothing of prometheus_client: the workers do

    server.totem_metrics_dir = metrics_process.begin(_service(server))


def when_ready(server) -> None:
    """The master announces its metrics from a process of its own: no thread of the master may hold a
    lock when it forks a worker (totem.service_registry.started)."""
    from totem import service_registry

    addresses = [listener.sock.getsockname() for listener in server.LISTENERS]
    inet = [address for address in addresses if isinstance(address, tuple)]
    if inet:
        host, port = inet[0][:2]
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        metrics = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        server.totem_announcement = service_registry.started(["totem.service_registry", _service(server), metrics])


def child_exit(server, worker) -> None:
    from totem import metrics_process

    metrics_process.fork_exited(worker.pid)


def on_exit(server) -> None:
    from totem import metrics_process, service_registry

    announcement = getattr(server, "totem_announcement", None)
    if announcement is not None:
        service_registry.ended(announcement)
    directory = getattr(server, "totem_metrics_dir", None)
    if directory is not None:
        metrics_process.end(directory)
