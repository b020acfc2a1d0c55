"""The image factory HTTP API (default port 9300).

Run: gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9300 'image_factory.app:create_app()'
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from image_factory import api_builds, api_github, api_logs, openapi
from image_factory.context import make_factory
from image_factory.intake import Intake, celery_enqueue
from totem.api import create_service_app
from totem.api.followers import FollowerSlots
from totem.settings import Settings

SERVICE = "image_factory"
DEFAULT_PORT = 9300
MAX_BODY = 5 * 1024 * 1024  # as the orchestrator's: GitHub caps payloads at 25 MB, a push is a few KB


def create_app(settings: Settings | None = None, enqueue: Callable[[str], None] | None = None) -> Flask:
    """`enqueue(build_id)` sends the build task; by default through the Celery queue."""
    app = create_service_app(
        SERVICE, dependencies=("redis", "docker"), receives_hooks=True, settings=settings, max_body=MAX_BODY
    )
    factory = make_factory(app.config["TOTEM_SETTINGS"])
    app.extensions["image_factory"] = Intake(
        factory, enqueue or celery_enqueue(factory.config.queue), FollowerSlots(factory.config.max_followers)
    )
    for blueprint in (api_github.blueprint, api_builds.blueprint, api_logs.blueprint, openapi.blueprint):
        app.register_blueprint(blueprint)
    return app
