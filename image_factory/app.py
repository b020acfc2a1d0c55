"""The image factory HTTP API (default port 9300).

Run: gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9300 'image_factory.app:create_app()'
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request

from image_factory import api_builds, api_github, api_logs, openapi
from image_factory.context import make_factory
from image_factory.followers import FollowerSlots
from image_factory.intake import Intake, celery_enqueue
from totem.api import ApiError, create_service_app
from totem.settings import Settings

SERVICE = "image_factory"
DEFAULT_PORT = 9300
MAX_BODY = 5 * 1024 * 1024  # as the orchestrator's: GitHub caps payloads at 25 MB, a push is a few KB


def refuse_large_bodies() -> None:
    """413 from the declared length, before any view reads the body (or checks its signature).
    A body without a length (chunked) is cut off by Flask at MAX_CONTENT_LENGTH: a 413 as well."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(
            413,
            "request_entity_too_large",
            f"the body is {request.content_length} bytes; the image factory accepts at most {limit}",
            {"limit": limit},
        )


def create_app(settings: Settings | None = None, enqueue: Callable[[str], None] | None = None) -> Flask:
    """`enqueue(build_id)` sends the build task; by default through the Celery queue."""
    app = create_service_app(SERVICE, dependencies=("redis", "docker"), receives_hooks=True, settings=settings)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.before_request(refuse_large_bodies)
    factory = make_factory(app.config["TOTEM_SETTINGS"])
    app.extensions["image_factory"] = Intake(
        factory, enqueue or celery_enqueue(factory.config.queue), FollowerSlots(factory.config.max_followers)
    )
    for blueprint in (api_github.blueprint, api_builds.blueprint, api_logs.blueprint, openapi.blueprint):
        app.register_blueprint(blueprint)
    return app
