"""Signed GitHub push deliveries, shaped like the ones GitHub sends."""

from __future__ import annotations

import json
import uuid

from totem.signatures import sign


def push_payload(owner: str, repo: str, ref: str, commit: str, deleted: bool = False) -> dict:
    return {
        "ref": f"refs/heads/{ref}",
        "before": "0" * 40,
        "after": "0" * 40 if deleted else commit,
        "created": False,
        "deleted": deleted,
        "forced": False,
        "repository": {"name": repo, "full_name": f"{owner}/{repo}", "owner": {"login": owner, "name": owner}},
        "head_commit": None if deleted else {"id": commit, "message": "change"},
        "pusher": {"name": "tester"},
    }


def delivery(
    secret: str,
    payload: dict | bytes,
    event: str = "push",
    delivery_id: str | None = None,
    signature: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature or sign(secret, body),
        "User-Agent": "GitHub-Hookshot/test",
    }
    return body, headers
