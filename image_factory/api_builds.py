"""`POST /builds`, `GET /builds` (filtered, newest first, paged) and `GET /builds/<id>`."""

from __future__ import annotations

import re
from itertools import islice

from flask import Blueprint, jsonify, request

from image_factory.intake import intake, submit
from image_factory.records import is_build_id
from image_factory.states import STATUSES
from totem.access.guard import authorize, require
from totem.api import ApiError, json_body
from totem.git_names import CHECKS, FIELDS

blueprint = Blueprint("builds", __name__)

BUILD_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["owner", "repo", "ref", "commit"],
    "additionalProperties": False,
    "properties": {
        **{name: {"type": "string", "minLength": 1, "maxLength": 200} for name in FIELDS},
        "force": {"type": "boolean"},
    },
}  # the names' own rules are totem.git_names' (a 400 `invalid_git_name`, as for pushes)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
FILTERS = (*FIELDS, "status")
_DIGITS = re.compile(r"[0-9]{1,7}")  # ASCII digits only; str.isdigit() also takes "²" and "١"


def _refuse(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_query", message, {"field": name})


def _one_arg(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise _refuse(name, f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


@blueprint.post("/builds")
@require("build")
def create_build():
    body = json_body(BUILD_REQUEST_SCHEMA)
    authorize(body["owner"], body["repo"], ref=body["ref"], commit=body["commit"])
    record, created = submit({k: body[k] for k in FIELDS}, trigger="api", force=body.get("force", False))
    return jsonify({"status": "queued" if created else "reused", "build": record}), 202 if created else 200


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = _one_arg(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise _refuse(name, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _filters() -> dict[str, str]:
    """The filters given; an empty or invalid one is a 400 naming it (never silently ignored)."""
    filters = {name: value for name in FILTERS if (value := _one_arg(name)) is not None}
    for name, value in filters.items():
        if not (value in STATUSES if name == "status" else CHECKS[name](value)):
            raise _refuse(name, f"{name}: {value[:100]!r} is not a valid filter")
    return filters


@blueprint.get("/builds")
def list_builds():
    filters = _filters()
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, MAX_OFFSET)
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
