"""The audit trail (the orchestrator's `GET /audit`, read with the operator's token): a global page with
filters (app, actor, since) and the per-app section of the app page. Signed out, both ask for a sign-in."""

from __future__ import annotations

import time

from flask import Blueprint, request

from totem.contracts.deploy_request import duration_seconds
from totem_client import ServiceError
from totem_dashboard import security
from totem_dashboard.render import clients, page
from totem_dashboard.times import epoch

blueprint = Blueprint("audit", __name__)
FILTERS = ("app", "actor", "since")
LIMIT, APP_LIMIT = 200, 20


def since_epoch(text: str) -> float | None:
    """A duration back from now (`1h`, `2d`; a bare number is seconds) or a date (`2026-12-01T10:00`)."""
    text = text.strip()
    if not text:
        return None
    seconds = duration_seconds(text)
    if seconds is not None:
        return time.time() - seconds
    return epoch(text)


def trail(limit: int, app: str = "", actor: str = "", since: str = "") -> dict:
    """{"records", "error", "signed_in"}: what the orchestrator's trail holds for these filters."""
    token = security.token()
    found: dict = {"records": [], "error": None, "signed_in": token is not None}
    if token is None:
        return found
    since_at = since_epoch(since)
    if since and since_at is None:
        found["error"] = f"since {since!r} is neither a duration (1h, 2d) nor a date (2026-12-01T10:00)"
        return found
    try:
        records = (
            clients()
            .orchestrator.with_token(token)
            .audit(
                app=app or None, actor=actor or None, since=None if since_at is None else f"{since_at:.3f}", limit=limit
            )
        )
    except ServiceError as exc:
        if exc.status == 401:
            raise  # the session ends (errors.service_error)
        found["error"] = f"The orchestrator did not answer with the audit trail: {exc.message}"
        return found
    found["records"] = records
    return found


@blueprint.get("/audit")
def show_audit():
    chosen = {k: request.args.get(k, "").strip()[:200] for k in FILTERS}
    return page("audit.html", "_audit_table.html", audit=trail(LIMIT, **chosen), chosen=chosen)


def app_trail(name: str) -> dict | None:
    """The app page's section (not its live part: the page's script refreshes that every 2 s)."""
    if request.headers.get("X-Fragment") == "1":
        return None
    return trail(APP_LIMIT, app=name)
