"""The Flask app every Totem service starts from: JSON errors, request ids, logs, /health, /metrics."""

from __future__ import annotations

import logging
import re
import uuid
from typing import cast

from flask import Flask, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider

from totem import logs, metrics
from totem.api import errors
from totem.api.health import CHECKS, health_blueprint
from totem.settings import Settings, load_or_exit

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("totem.api")


def refuse_large_bodies() -> None:
    """413 from the declared length, before any view reads the body, checks its signature or its
    token. A body without a length (chunked) is cut off by Flask at MAX_CONTENT_LENGTH: a 413 as well."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise errors.ApiError(
            413,
            "request_entity_too_large",
            f"the body is {request.content_length} bytes; {current_app.name} accepts at most {limit}",
            {"limit": limit},
        )


def create_service_app(
    service: str,
    dependencies: tuple[str, ...] = ("etcd", "redis"),
    receives_hooks: bool = False,
    settings: Settings | None = None,
    import_name: str | None = None,
    max_body: int | None = None,
) -> Flask:
    """`import_name`: the package whose templates/ and static/ the app serves; without it the app is
    an API only (no /static route). `max_body`: bytes a request body may have (413 beyond)."""
    settings = settings or load_or_exit(service, receives_hooks=receives_hooks)
    if receives_hooks:
        settings.require_hook_secret(service)
    logs.bootstrap(service, settings)
    app = Flask(import_name or service, static_folder="static" if import_name else None)
    app.config["TOTEM_SETTINGS"] = settings
    cast(DefaultJSONProvider, app.json).sort_keys = False  # Flask() builds its DefaultJSONProvider
    errors.install(app)
    if max_body is not None:
        app.config["MAX_CONTENT_LENGTH"] = max_body
        app.before_request(refuse_large_bodies)

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.log_context = logs.log_context(request_id=g.request_id)
        g.log_context.__enter__()

    @app.after_request
    def tag_response(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def leave_context(_exc):
        context = g.pop("log_context", None)
        if context is not None:
            context.__exit__(None, None, None)

    from totem.access.routes import whoami_blueprint  # totem.access builds on totem.api

    app.register_blueprint(whoami_blueprint)
    checks = {name: CHECKS[name](settings) for name in dependencies}
    app.register_blueprint(health_blueprint(service, checks))
    metrics.initialise()
    shown = app.extensions["metrics"] = metrics.registry()  # a service registers its own collectors there

    @app.get("/metrics")
    def prometheus_metrics():
        """Prometheus text format (docs/metrics.md); no token, like /health."""
        return Response(metrics.render(shown), content_type=metrics.CONTENT_TYPE)

    return app
