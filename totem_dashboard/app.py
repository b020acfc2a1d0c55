"""The dashboard's Flask app (default port 9500).

Run: gunicorn -c python:totem.api.gunicorn_conf -b 127.0.0.1:9500 'totem_dashboard.app:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask, redirect, url_for

from deployer.states import PROMOTABLE
from totem.api import create_service_app
from totem.settings import Settings
from totem_client import Clients
from totem_dashboard import (
    actions,
    ansi,
    approvals,
    auth,
    errors,
    identity,
    pages_activity,
    pages_apps,
    pages_audit,
    pages_delivery,
    pages_logs,
    security,
)
from totem_dashboard.times import duration, when

SERVICE = "dashboard"
DEFAULT_PORT = 9500


def create_app(settings: Settings | None = None, clients: Clients | None = None) -> Flask:
    # it reads the services over HTTP: its /health has no dependency of its own to check
    app = create_service_app(SERVICE, dependencies=(), settings=settings, import_name=__package__)
    settings = app.config["TOTEM_SETTINGS"]
    security.configure(app)
    errors.install(app)
    app.extensions["totem_clients"] = clients or Clients.from_settings(settings)
    app.jinja_env.filters.update(when=when, duration=duration, ansi=ansi.to_html)
    app.jinja_env.globals.update(
        csrf_token=security.csrf_token,
        signed_in=lambda: security.token() is not None,
        principal=security.principal,
        may=identity.may,
        may_decide=identity.may_decide,
        proxy_port=os.environ.get("TOTEM_DASHBOARD_PROXY_PORT", "8080"),
        promotable=PROMOTABLE,  # the rollout phases a promote ends (the deployer's own set)
    )
    app.config["TOTEM_DASHBOARD_RECHECK"] = float(os.environ.get("TOTEM_DASHBOARD_RECHECK", identity.RECHECK))
    app.before_request(identity.recheck)
    for blueprint in (
        auth.blueprint,
        pages_apps.blueprint,
        pages_activity.blueprint,
        pages_audit.blueprint,
        pages_delivery.blueprint,
        pages_logs.blueprint,
        actions.blueprint,
        approvals.blueprint,
    ):
        app.register_blueprint(blueprint)

    @app.get("/")
    def index():
        return redirect(url_for("apps.list_apps"))

    @app.after_request
    def headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
