"""`POST /builds`, `GET /builds` (filtered, newest first, paged) and `GET /builds/<id>`."""

from __future__ import annotations

from itertools import islice

from flask import Blueprint, jsonify, request

from image_factory.intake import intake, submit
from image_factory.records import is_build_id
from image_factory.states import STATUSES
from totem.api import ApiError, json_body, require_token
from totem.git_names import CHECKS, validate_git

blueprint = Blueprint("builds", __name__)

BUILD_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["owner", "repo", "ref", "commit"],
    "additionalProperties": False,
    "properties": {
        **{name: {"type": "string", "minLength": 1, "maxLength": 200} for name in ("owner", "repo", "ref", "commit")},
        "force": {"type": "boolean"},
    },
}
MAX_LIMIT = 100


@blueprint.post("/builds")
@require_token
def create_build():
    body = json_body(BUILD_REQUEST_SCHEMA)
    git = validate_git({k: body[k] for k in ("owner", "repo", "ref", "commit")})
    record, created = submit(git, trigger="api", force=body.get("force", False))
    return jsonify({"status": "queued" if created else "reused", "build": record}), 202 if created else 200


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_query", f"{name} must be an integer from {low} to {high}", {"field": name})
    return int(raw)


def _filters() -> dict[str, str]:
    filters = {k: v for k in ("owner", "repo", "ref", "commit", "status") if (v := request.args.get(k)) is not None}
    for name, value in filters.items():
        valid = value in STATUSES if name == "status" else CHECKS[name](value)
        if not valid:
            raise ApiError(400, "invalid_query", f"{name}: {value!r} is not a valid filter", {"field": name})
    return filters


@blueprint.get("/builds")
def list_builds():
    filters = _filters()
    limit = _int_arg("limit", 20, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 1_000_000)
    records = intake().factory.store.newest_first(filters.get("owner"), filters.get("repo"))
    matching = (r for r in records if all(r.get(k) == v for k, v in filters.items()))
    page = list(islice(matching, offset, offset + limit + 1))
    more = len(page) > limit
    return jsonify(
        {"builds": page[:limit], "offset": offset, "limit": limit, "next_offset": offset + limit if more else None}
    )


def load_build(build_id: str) -> dict:
    record = intake().factory.store.get(build_id) if is_build_id(build_id) else None
    if record is None:
        raise ApiError(404, "build_not_found", f"no build {build_id[:60]!r}")
    return record


@blueprint.get("/builds/<build_id>")
def get_build(build_id: str):
    return jsonify(load_build(build_id))
