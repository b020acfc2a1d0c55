"""The generic hook (docs/architecture.md §3.1), signed `X-Hook-Signature: sha256=<hex>`."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.jobs.model import Hook
from totem import signatures
from totem.api import ApiError, parse_json, validate
from totem.contracts.hook import GENERIC_HOOK_SCHEMA, HookStatus
from totem.git_names import validate_git

MAX_SENDER = 200


def read(headers: Mapping[str, str], body: bytes, secret: str | None, insecure_dev: bool) -> Hook:
    return read_with_sender(headers, body, secret, insecure_dev)[0]


def read_with_sender(
    headers: Mapping[str, str], body: bytes, secret: str | None, insecure_dev: bool
) -> tuple[Hook, str | None]:
    """The hook, and its optional `sender`: who it acts for (e.g. the CI build's author), for the audit trail."""
    if secret or not insecure_dev:
        if not signatures.verify(secret, body, headers.get("X-Hook-Signature")):
            raise ApiError(401, "bad_signature", "X-Hook-Signature is missing or does not match the body")
    data = parse_json(body)
    validate(data, GENERIC_HOOK_SCHEMA)
    validate_git(data["git"])
    sender = data.get("sender")
    if sender is not None and not (isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER and sender.isprintable()):
        raise ApiError(
            400, "invalid_payload", f"sender must be 1-{MAX_SENDER} printable characters", {"field": "sender"}
        )
    hook = Hook(
        **{k: data["git"][k] for k in ("owner", "repo", "ref", "commit")},
        type=data["type"],
        name=data["name"],
        status=HookStatus(data["status"]),
        result=data.get("result") or {},
        force_deploy=bool(data.get("force-deploy")),
        source="generic",
    )
    return hook, sender
