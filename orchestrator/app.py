"""The orchestrator HTTP API (default port 9400).

Run: gunicorn -b 127.0.0.1:9400 'orchestrator.app:create_app()'
"""
from __future__ import annotations

from flask import Flask

from totem.api import create_service_app
from totem.settings import Settings

SERVICE = "orchestrator"
DEFAULT_PORT = 9400


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(SERVICE, dependencies=("etcd", "redis"), receives_hooks=True, settings=settings)
