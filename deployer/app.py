"""The deployer HTTP API (default port 9000).

Run: gunicorn -b 127.0.0.1:9000 'deployer.app:create_app()'
"""
from __future__ import annotations

from flask import Flask

from totem.api import create_service_app
from totem.settings import Settings

SERVICE = "deployer"
DEFAULT_PORT = 9000


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(SERVICE, dependencies=("etcd", "redis", "docker"), receives_hooks=False, settings=settings)
