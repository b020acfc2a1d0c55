"""Apps list (search and filters) and the app page (deployments, timeline, instances, wiring, events,
its audit trail)."""

from __future__ import annotations

from flask import Blueprint, request

from totem_dashboard import gather, pages_audit
from totem_dashboard.render import clients, page

blueprint = Blueprint("apps", __name__)
FILTERS = ("q", "owner", "repo", "ref")


@blueprint.get("/apps")
def list_apps():
    chosen = {k: request.args.get(k, "").strip()[:200] for k in FILTERS}
    rows = gather.app_rows(clients(), chosen["q"], chosen["owner"], chosen["repo"], chosen["ref"])
    return page("apps.html", "_apps_table.html", rows=rows, chosen=chosen)


@blueprint.get("/apps/<name>")
def show_app(name: str):
    shown = gather.app_page(clients(), name)
    return page("app.html", "_app_live.html", audit=pages_audit.app_trail(name), **shown)
