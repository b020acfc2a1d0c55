"""The deployer HTTP API (default port 9000).

Run: gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9000 'deployer.app:create_app()'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from deployer import api, openapi
from deployer.context import Context
from deployer.settings import DeployerSettings
from totem.api import create_service_app, error_response
from totem.settings import Settings
from totem.store import StoreConflict, StoreUnavailable

SERVICE = "deployer"
DEFAULT_PORT = 9000
MAX_BODY = api.MAX_BODY
app_log = logging.getLogger("deployer.app")


@dataclass
class Runtime:
    ctx: Context
    dispatch: Callable[..., None]  # dispatch(task name, *args): queue a Celery task


def celery_dispatch(name: str, *args) -> None:
    from deployer.worker import celery

    celery.send_task(name, args=list(args))


def store_unavailable(exc: Exception):
    """etcd down or too busy: a 503 the caller retries (with the same Idempotency-Key)."""
    app_log.warning("etcd: %s", exc)
    return error_response(503, "unavailable", "etcd is unavailable; retry later", None, {"Retry-After": "5"})


def create_app(
    settings: Settings | None = None,
    options: DeployerSettings | None = None,
    dispatch: Callable[..., None] | None = None,
) -> Flask:
    app = create_service_app(SERVICE, dependencies=("etcd", "redis", "docker"), receives_hooks=False, settings=settings)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    ctx = Context(app.config["TOTEM_SETTINGS"], options or DeployerSettings.from_env())
    app.extensions["deployer"] = Runtime(ctx, dispatch or celery_dispatch)
    for unavailable in (StoreUnavailable, StoreConflict):
        app.register_error_handler(unavailable, store_unavailable)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(openapi.blueprint)
    return app
