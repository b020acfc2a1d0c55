"""The generic hook (docs/architecture.md §3.1): what the image factory sends and any CI may send.

    {"git": {"owner", "repo", "ref", "commit"}, "type": "builder" | "ci" | "scm-push" | "scm-create",
     "name": "...", "status": "success" | "failed" | "pending", "result": {"image": "..."}, "force-deploy": false}

POSTed to the orchestrator's `/hooks/generic` as JSON, signed `X-Hook-Signature: sha256=<hex HMAC-SHA256
of the raw body>` with TOTEM_HOOK_SECRET. `totem.signed_post.send_hook` signs and sends it.

A builder's `result` names its image as `{"image": "reg/app:tag"}`, or in the 2015 Quay shape
`{"docker_url": "quay.io/acme/app", "docker_tags": ["abc123", "latest"]}` (`result_image`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class HookStatus(StrEnum):
    """What a hook reports about its commit; the gate deploys when every required hook is SUCCESS."""

    SUCCESS = "success"
    FAILED = "failed"
    PENDING = "pending"


GATE_TYPES = ("builder", "ci")  # the hook types an app configures and the deploy gate waits for
MAX_IMAGE = 1000  # what a deploy request's templates.app.args.image holds
# "(?!\n)": Python's "$" also matches before a final newline (ECMA-262's does not; there it is a no-op)
TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$(?!\n)"  # a Docker tag
REPOSITORY = r"^[A-Za-z0-9][A-Za-z0-9._/:-]*$(?!\n)"  # registry[:port]/path, no tag or digest

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": {"type": "string", "maxLength": MAX_IMAGE},  # "" names no image
        # the 2015 Quay builder: docker_url plus its tags, the first one deployed
        "docker_url": {"type": "string", "pattern": REPOSITORY, "maxLength": MAX_IMAGE - 129},
        "docker_tags": {"type": "array", "maxItems": 100, "items": {"type": "string", "pattern": TAG}},
    },
}

GENERIC_HOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["git", "type", "name", "status"],
    "properties": {
        "git": {
            "type": "object",
            "required": ["owner", "repo", "ref", "commit"],
            "properties": {k: {"type": "string", "minLength": 1} for k in ("owner", "repo", "ref", "commit")},
        },
        "type": {"enum": ["builder", "ci", "scm-push", "scm-create"]},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "status": {"enum": [status.value for status in HookStatus]},
        "result": RESULT_SCHEMA,
        "force-deploy": {"type": "boolean"},
        "sender": {"type": "string", "minLength": 1, "maxLength": 200, "description": "who it acts for (audit)"},
    },
}


def result_image(result: Any) -> str | None:
    """The image a builder's result names: `image` when given, else `docker_url:docker_tags[0]`
    (or `docker_url` alone without tags), else None."""
    if not isinstance(result, dict):
        return None
    image = result.get("image")
    if isinstance(image, str) and image:
        return image
    url, tags = result.get("docker_url"), result.get("docker_tags")
    if not isinstance(url, str) or not url:
        return None
    tag = tags[0] if isinstance(tags, list) and tags and isinstance(tags[0], str) and tags[0] else None
    return f"{url}:{tag}" if tag else url
