"""`GET /openapi.json`: the image factory's HTTP API: every route, the statuses each answers, and the
schemas of what they take and give, with the constraints the code enforces (patterns, ranges, enums)."""

from __future__ import annotations

from image_factory.api_builds import BUILD_REQUEST_SCHEMA, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from image_factory.api_logs import FOLLOW_VALUES
from image_factory.records import BUILD_ID_PATTERN
from image_factory.states import STATUSES, BuildStatus
from totem.api import openapi
from totem.api.followers import RETRY_AFTER_SECONDS
from totem.api.openapi import (
    github_hook_body,
    operation,
    path_param,
    query_param,
    ref,
    retry_after,
    service_paths,
)
from totem.git_names import DESCRIPTIONS, FIELDS
from totem.git_names import schema as git_schema

BUILD, BUILD_ANSWER, BUILD_PAGE = ref("Build"), ref("BuildAnswer"), ref("BuildPage")
STATUS_NAMES = [status.value for status in STATUSES]
BUILD_ID = [
    path_param(
        "build_id",
        "a build id (anything else is a 404, as an unknown build is)",
        {"type": "string", "pattern": BUILD_ID_PATTERN},
    )
]
NULLABLE_TIME = {"type": ["number", "null"], "description": "Unix time; null until it happens"}
STEP_SCHEMA = {
    "type": "object",
    "required": ["name", "status", "started_at", "finished_at", "duration_s", "error"],
    "properties": {
        "name": {"type": "string", "description": "checkout, build, push, then hook"},
        "status": {"enum": [BuildStatus.RUNNING.value, BuildStatus.SUCCEEDED.value, BuildStatus.FAILED.value]},
        "started_at": {"type": "number", "description": "Unix time"},
        "finished_at": NULLABLE_TIME,
        "duration_s": {"type": ["number", "null"], "minimum": 0},
        "error": {"type": ["string", "null"], "description": "why the step failed (secrets masked)"},
    },
}
BUILD_SCHEMA = {
    "type": "object",
    "required": [
        "id",
        *FIELDS,
        "status",
        "trigger",
        "created_at",
        "started_at",
        "finished_at",
        "image",
        "images",
        "error",
        "steps",
        "superseded_by",
        "attempts",
        "forced",
        "tree",
        "reused_from",
    ],
    "properties": {
        "id": {"type": "string", "pattern": BUILD_ID_PATTERN},
        **{field: git_schema(field) for field in FIELDS},
        "status": {"enum": STATUS_NAMES},
        "trigger": {"type": "string", "description": "`api`, or `github:<X-GitHub-Delivery>`"},
        "created_at": {"type": "number", "description": "Unix time"},
        "started_at": NULLABLE_TIME,
        "finished_at": NULLABLE_TIME,
        "image": {"type": ["string", "null"], "description": "the image's commit tag, once the build succeeded"},
        "images": {"type": "array", "items": {"type": "string"}, "description": "every tag pushed"},
        "error": {"type": ["string", "null"], "description": "why the build failed (secrets masked)"},
        "steps": {"type": "array", "items": ref("Step")},
        "superseded_by": {"type": ["string", "null"], "description": "the newer build of the same ref, if any"},
        "attempts": {
            "type": "integer",
            "minimum": 0,
            "description": "how many workers took it (more than one: a worker died before it finished)",
        },
        "forced": {"type": "boolean", "description": "asked with `force`: built again, reusing no earlier image"},
        "tree": {"type": ["string", "null"], "description": "the commit's git tree hash, once checked out"},
        "reused_from": {
            "type": ["string", "null"],
            "description": "the earlier build whose image (built from the same tree) was tagged and pushed instead",
        },
    },
}
BUILD_ANSWER_SCHEMA = {
    "type": "object",
    "required": ["status", "build"],
    "properties": {"status": {"enum": ["queued", "reused"]}, "build": BUILD},
}
BUILD_PAGE_SCHEMA = {
    "type": "object",
    "required": ["builds", "offset", "limit", "next_offset"],
    "properties": {
        "builds": {"type": "array", "items": BUILD, "maxItems": MAX_LIMIT},
        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "next_offset": {"type": ["integer", "null"], "description": "where the next page starts; null on the last"},
    },
}
# the body POST /builds takes, with the names' patterns (the code checks them: totem.git_names)
PUBLISHED_BUILD_REQUEST = {
    **BUILD_REQUEST_SCHEMA,
    "properties": {
        **{field: git_schema(field) for field in FIELDS},
        "force": {"type": "boolean", "default": False, "description": "build even if this commit was built"},
    },
}


def _github_hook() -> dict:
    op = operation(
        "GitHub webhook, signed X-Hub-Signature-256: push starts a build; ping answers pong; deleted refs "
        "and other events are acknowledged (204); a repeated X-GitHub-Delivery is answered `duplicate`. "
        "The delivery may be JSON or form-encoded (`payload=<JSON>`), whichever the webhook is set to; "
        "the signature is over the body as sent",
        {"202": "build queued", "200": "pong, duplicate, or an existing build reused"},
        "400",
        "401",
        "413",
        "415",
        "503",
    )
    op["responses"]["204"] = {"description": "acknowledged, nothing to build"}
    op["requestBody"] = github_hook_body()
    return retry_after(op, "503")


def _create_build() -> dict:
    op = operation(
        "Build a commit. A queued, running or recently built build of the same commit and ref is reused "
        "(200) unless `force`; names are checked as for pushes (400 `invalid_git_name`)",
        {"202": ("build queued", BUILD_ANSWER), "200": ("an existing build reused", BUILD_ANSWER)},
        "400",
        "401",
        "413",
        "415",
        "503",
        body=ref("BuildRequest"),
        write=True,
    )
    retry_after(op, "503")
    op["responses"]["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    op["responses"]["503"]["description"] = "Redis (the token store, the records) or the build queue is unavailable"
    return op


def _list_builds() -> dict:
    filters = [query_param(field, DESCRIPTIONS[field], git_schema(field)) for field in FIELDS]
    op = operation(
        "Builds, newest first, paged (`next_offset`). A filter given empty, invalid or twice is a 400 naming it",
        {"200": ("a page of builds", BUILD_PAGE)},
        "400",
        "503",
        parameters=[
            *filters,
            query_param("status", "build status", {"type": "string", "enum": STATUS_NAMES}),
            query_param(
                "limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
            ),
            query_param(
                "offset", "builds skipped", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
            ),
        ],
    )
    return retry_after(op, "503")


def _build_log() -> dict:
    op = operation(
        "The whole log as text; with `follow` a server-sent event stream of its lines (`line` events, then "
        "`end` with the final status; resume with Last-Event-ID). Followers are capped per worker (429)",
        {"200": "the log"},
        "400",
        "404",
        "429",
        "503",
        parameters=[
            query_param(
                "follow",
                "1, true or yes: stream the log as it grows; 0, false, no or absent: the log so far",
                {"type": "string", "enum": list(FOLLOW_VALUES)},
            ),
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "with follow: resume after this event id (`<ms>-<seq>`); another value starts over",
                "schema": {"type": "string"},
            },
        ],
    )
    op["responses"]["200"] = {
        "description": "text/plain: the log so far (the archived one once the build finished); "
        "text/event-stream with follow",
        "headers": {
            "X-Build-Status": {"description": "the build's status (text/plain)", "schema": {"enum": STATUS_NAMES}}
        },
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "text/event-stream": {"schema": {"type": "string"}},
        },
    }
    op["responses"]["429"]["description"] = (
        "with follow: this worker follows TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS logs already; retry after Retry-After"
    )
    retry_after(op, "503")
    op["responses"]["429"]["headers"] = {
        "Retry-After": {"description": "seconds", "schema": {"type": "integer", "const": RETRY_AFTER_SECONDS}}
    }
    return op


def document() -> dict:
    return openapi.document(
        "Totem image factory",
        description="Signed GitHub pushes → docker build → registry → builder hook to the orchestrator. "
        "Request bodies are limited to 5 MB (413).",
        paths={
            "/hooks/github": {"post": _github_hook()},
            "/builds": {"post": _create_build(), "get": _list_builds()},
            "/builds/{build_id}": {
                "parameters": BUILD_ID,
                "get": retry_after(
                    operation(
                        "A build: status, steps with durations and errors, images",
                        {"200": ("the build", BUILD)},
                        "404",
                        "503",
                    ),
                    "503",
                ),
            },
            "/builds/{build_id}/log": {"parameters": BUILD_ID, "get": _build_log()},
            **service_paths("Redis and Docker"),
        },
        schemas={
            "BuildRequest": PUBLISHED_BUILD_REQUEST,
            "Build": BUILD_SCHEMA,
            "Step": STEP_SCHEMA,
            "BuildAnswer": BUILD_ANSWER_SCHEMA,
            "BuildPage": BUILD_PAGE_SCHEMA,
        },
    )


blueprint = openapi.openapi_blueprint(document)
