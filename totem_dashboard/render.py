"""Render a whole page, or only its live part when the page's script asks for a refresh."""

from __future__ import annotations

from flask import current_app, render_template, request

from totem_client import Clients


def clients() -> Clients:
    return current_app.extensions["totem_clients"]


def page(template: str, fragment: str, **context):
    if request.headers.get("X-Fragment") == "1":
        return render_template(fragment, **context)
    return render_template(template, fragment=fragment, **context)
