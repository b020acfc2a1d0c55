"""`totem dashboard [--bind 127.0.0.1:9500] [--workers N]`: run the dashboard under gunicorn."""

from __future__ import annotations

import os
import secrets

from totem.api import gunicorn_conf

DEFAULT_BIND = "127.0.0.1:9500"


def command(bind: str, workers: int) -> list[str]:
    return gunicorn_conf.command("totem_dashboard", bind, "--workers", str(workers), "--name", "totem-dashboard")


def register(subparsers) -> None:
    serve = subparsers.add_parser("dashboard", help=f"serve the web dashboard (default {DEFAULT_BIND})")
    serve.add_argument("--bind", default=DEFAULT_BIND, metavar="HOST:PORT")
    serve.add_argument("--workers", type=int, default=1, help="gunicorn workers (they share one session key)")
    serve.set_defaults(handler=_serve)


def _serve(args) -> int:
    # every worker must sign sessions with the same key
    os.environ.setdefault("TOTEM_DASHBOARD_SECRET", secrets.token_hex(32))
    argv = command(args.bind, args.workers)
    os.execv(argv[0], argv)
    return 0  # not reached
