"""The orchestrator HTTP API (default port 9400).

Run: gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9400 'orchestrator.app:create_app()'
"""

from __future__ import annotations

import redis
from flask import Flask

from orchestrator.api import approvals, openapi, routes
from orchestrator.hooks import routes as hook_routes
from orchestrator.jobs.store import JobStore
from orchestrator.runtime import Runtime
from orchestrator.settings import OrchestratorSettings, options_or_exit
from totem import metrics
from totem.access.audit_api import audit_blueprint
from totem.access.routes import tokens_blueprint
from totem.api import create_service_app
from totem.settings import Settings

SERVICE = "orchestrator"
DEFAULT_PORT = 9400
MAX_BODY = 5 * 1024 * 1024  # GitHub caps payloads at 25 MB; ours are far smaller


def create_app(settings: Settings | None = None, options: OrchestratorSettings | None = None) -> Flask:
    app = create_service_app(
        SERVICE, dependencies=("etcd", "redis"), receives_hooks=True, settings=settings, max_body=MAX_BODY
    )
    settings = app.config["TOTEM_SETTINGS"]
    options = options or options_or_exit(settings.config_providers)
    runtime = app.extensions["orchestrator"] = Runtime.create(settings, options)
    runtime.warm_up()
    app.extensions["metrics"].register(
        metrics.JobsByState(JobStore(runtime).count_by_state, (redis.RedisError, OSError))
    )
    app.register_blueprint(hook_routes.blueprint)
    app.register_blueprint(routes.blueprint)
    app.register_blueprint(approvals.blueprint)
    app.register_blueprint(tokens_blueprint)
    app.register_blueprint(audit_blueprint)
    app.register_blueprint(openapi.blueprint)
    return app
