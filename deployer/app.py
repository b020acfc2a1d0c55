"""The deployer HTTP API (default port 9000).

Run: gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9000 'deployer.app:create_app()'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from deployer import api, api_delivery, api_logs, api_secrets, api_traffic, openapi
from deployer.context import Context
from deployer.settings import DeployerSettings, load_or_exit
from totem.api import create_service_app, errors
from totem.settings import Settings
from totem.store import StoreConflict

SERVICE = "deployer"
DEFAULT_PORT = 9000
MAX_BODY = api.MAX_BODY


@dataclass
class Runtime:
    ctx: Context
    dispatch: Callable[..., None]  # dispatch(task name, *args): queue a Celery task


def celery_dispatch(name: str, *args) -> None:
    from deployer.worker import celery

    celery.send_task(name, args=list(args))


def create_app(
    settings: Settings | None = None,
    options: DeployerSettings | None = None,
    dispatch: Callable[..., None] | None = None,
) -> Flask:
    app = create_service_app(
        SERVICE, dependencies=("etcd", "redis", "docker"), receives_hooks=False, settings=settings, max_body=MAX_BODY
    )
    settings = app.config["TOTEM_SETTINGS"]
    ctx = Context(settings, load_or_exit(settings, options))  # exits on a Docker host it must not reach
    app.extensions["deployer"] = Runtime(ctx, dispatch or celery_dispatch)
    # etcd too busy to settle a transaction: like etcd down, a 503 retried with the same Idempotency-Key
    app.register_error_handler(StoreConflict, errors.dependency_unavailable)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(api_traffic.blueprint)
    app.register_blueprint(api_secrets.blueprint)
    app.register_blueprint(api_logs.blueprint)
    app.register_blueprint(api_delivery.blueprint)
    app.register_blueprint(openapi.blueprint)
    return app
