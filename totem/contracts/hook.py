"""The generic hook (docs/architecture.md §3.1): what the image factory sends and any CI may send.

    {"git": {"owner", "repo", "ref", "commit"}, "type": "builder" | "ci" | "scm-push" | "scm-create",
     "name": "...", "status": "success" | "failed" | "pending", "result": {"image": "..."}, "force-deploy": false}

POSTed to the orchestrator's `/hooks/generic` as JSON, signed `X-Hook-Signature: sha256=<hex HMAC-SHA256
of the raw body>` with TOTEM_HOOK_SECRET. `totem.signed_post.send_hook` signs and sends it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class HookStatus(StrEnum):
    """What a hook reports about its commit; the gate deploys when every required hook is SUCCESS."""

    SUCCESS = "success"
    FAILED = "failed"
    PENDING = "pending"


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
        "result": {"type": "object"},
        "force-deploy": {"type": "boolean"},
    },
}
