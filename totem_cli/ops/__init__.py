"""Operator commands on the services' APIs: apps, app, deploy, rollback, undeploy, jobs, builds, logs,
a rollout's and an app's traffic controls (promote, abort, pause, resume, maintenance, rollout), and
`dashboard` to serve the web dashboard."""

from __future__ import annotations

import argparse

from totem_cli.ops import acting, approvals, audit, deploying, logs, reading, rollout, secrets, stats, tokens
from totem_dashboard import serve


def register(subparsers: argparse._SubParsersAction) -> None:
    reading.register(subparsers)
    deploying.register(subparsers)
    acting.register(subparsers)
    approvals.register(subparsers)
    rollout.register(subparsers)
    tokens.register(subparsers)
    secrets.register(subparsers)
    audit.register(subparsers)
    stats.register(subparsers)
    logs.register(subparsers)
    serve.register(subparsers)
