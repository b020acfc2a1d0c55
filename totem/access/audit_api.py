"""`GET /audit` (the orchestrator's): the audit trail, filtered, as JSON (newest first) or as JSON lines
(oldest first: the export). Any valid token reads it, and sees the records of the repos it is scoped to.

Every parameter given must be usable: a bad one is a 400 naming it, as the other read endpoints do.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from totem.access import guard
from totem.access.audit import MAX_QUERY
from totem.access.principal import Principal
from totem.access.roles import ACTIONS
from totem.api import invalid_parameter

audit_blueprint = Blueprint("audit", __name__)
NDJSON = "application/x-ndjson"
DEFAULT_LIMIT = 100
FORMATS = ("json", "jsonl")
NAME = re.compile(r"[^\s\x00-\x1f\x7f]{1,300}")  # an app, owner/repo[/ref] or actor: printable, no blanks
AGO = re.compile(r"(\d{1,9})([smhdw])")  # "10m", "24h", "7d": that long before now
AGO_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
UNIX = re.compile(r"\d{1,12}(\.\d{1,6})?")


def when(name: str, raw: str, now: float) -> float:
    """Unix seconds from Unix seconds, ISO 8601 (UTC unless it says otherwise) or a duration ago."""
    text = raw.strip()
    ago = AGO.fullmatch(text)
    if ago:
        return now - int(ago.group(1)) * AGO_UNITS[ago.group(2)]
    if UNIX.fullmatch(text):
        return float(text)
    try:
        parsed = datetime.fromisoformat(text) if 0 < len(text) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise invalid_parameter(name, "must be Unix seconds, an ISO 8601 time or a duration ago like 10m, 24h or 7d")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _name(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and not NAME.fullmatch(value):
        raise invalid_parameter(name, "must be 1-300 printable characters without blanks")
    return value


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not 1 <= int(raw) <= MAX_QUERY:
        raise invalid_parameter("limit", f"must be an integer from 1 to {MAX_QUERY}")
    return int(raw)


def _format() -> str:
    given = request.args.get("format")
    if given is None:
        return "jsonl" if request.accept_mimetypes.best_match(["application/json", NDJSON]) == NDJSON else "json"
    if given not in FORMATS:
        raise invalid_parameter("format", "must be json or jsonl")
    return given


def filters() -> dict:
    """The query's filters from the request's parameters (400 for the first bad one)."""
    now = time.time()
    action = request.args.get("action")
    if action is not None and action not in ACTIONS:
        raise invalid_parameter("action", f"must be one of {', '.join(ACTIONS)}")
    found: dict[str, Any] = {"app": _name("app"), "actor": _name("actor"), "action": action, "limit": _limit()}
    since, until = (
        when(name, request.args[name], now) if name in request.args else None for name in ("since", "until")
    )
    if since is not None and until is not None and since > until:
        raise invalid_parameter("since", "must not be after until")
    found.update(since=since, until=until)
    return found


def visible(principal: Principal) -> Callable[[dict], bool] | None:
    """The records a token may read: those of the repos it is scoped to (a target without owner/repo,
    such as a token's, only for a token scoped to every repo)."""
    if "*" in principal.scopes:
        return None

    def covered(record: dict) -> bool:
        target = record.get("target") or {}
        return principal.covers_repo(target.get("owner"), target.get("repo"))

    return covered


@audit_blueprint.get("/audit")
@guard.require("read", audited=False)
def audit_trail():
    wanted, form = filters(), _format()
    records = guard.access().audit.query(**wanted, where=visible(guard.authenticate()))
    if form == "json":
        return jsonify({"records": records, "count": len(records)})
    lines = "".join(json.dumps(record, sort_keys=True) + "\n" for record in reversed(records))
    return Response(lines, mimetype=NDJSON)
