"""The dashboard's Flask app (default port 9500).

Run: gunicorn -b 127.0.0.1:9500 'totem_dashboard.app:create_app()'
"""
from __future__ import annotations

import os

from flask import Flask, redirect, render_template, url_for

from totem_client import Clients, ServiceError
from totem_dashboard import actions, ansi, auth, pages_activity, pages_apps, security
from totem_dashboard.times import duration, when
from totem.settings import Settings

DEFAULT_PORT = 9500


def create_app(settings: Settings | None = None, clients: Clients | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    security.configure(app)
    app.config["TOTEM_SETTINGS"] = settings
    app.extensions["totem_clients"] = clients or Clients.from_settings(settings)
    app.jinja_env.filters.update(when=when, duration=duration, ansi=ansi.to_html)
    app.jinja_env.globals.update(csrf_token=security.csrf_token, signed_in=lambda: security.token() is not None,
                                 proxy_port=os.environ.get("TOTEM_DASHBOARD_PROXY_PORT", "8080"))
    for blueprint in (auth.blueprint, pages_apps.blueprint, pages_activity.blueprint, actions.blueprint):
        app.register_blueprint(blueprint)

    @app.get("/")
    def index():
        return redirect(url_for("apps.list_apps"))

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        status = error.status if error.status in (404,) else 502
        return render_template("error.html", error=error, status=status), status

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                    "frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
