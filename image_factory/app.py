"""The image factory HTTP API (default port 9300).

Run: gunicorn -b 127.0.0.1:9300 'image_factory.app:create_app()'
"""
from __future__ import annotations

from flask import Flask

from totem.api import create_service_app
from totem.settings import Settings

SERVICE = "image_factory"
DEFAULT_PORT = 9300


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(SERVICE, dependencies=("etcd", "redis", "docker"), receives_hooks=True, settings=settings)
