"""Operator commands on the services' APIs: apps, app, deploy, rollback, undeploy, jobs, builds, logs,
and `dashboard` to serve the web dashboard."""

from __future__ import annotations

import argparse

from totem_cli.ops import acting, deploying, reading
from totem_dashboard import serve


def register(subparsers: argparse._SubParsersAction) -> None:
    reading.register(subparsers)
    deploying.register(subparsers)
    acting.register(subparsers)
    serve.register(subparsers)
