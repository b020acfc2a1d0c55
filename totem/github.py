"""GitHub webhooks: signature check, delivery de-duplication, push payload parsing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from totem import signatures
from totem.api.errors import ApiError
from totem.api.validation import parse_json
from totem.git_names import is_commit, validate_git

ZERO_COMMIT = "0" * 40


@dataclass(frozen=True)
class GithubDelivery:
    event: str  # X-GitHub-Event: push, create, delete, ping, workflow_run, ...
    delivery: str  # X-GitHub-Delivery (unique per delivery, reused on redelivery)
    payload: dict[str, Any]


@dataclass(frozen=True)
class GitRef:
    owner: str
    repo: str
    ref: str  # branch or tag name, slashes kept: "feature/login"
    ref_type: str  # "branch" or "tag"
    commit: str | None  # None for a deletion
    deleted: bool = False
    created: bool = False

    def as_git(self) -> dict[str, str | None]:
        return {"owner": self.owner, "repo": self.repo, "ref": self.ref, "commit": self.commit}


def read_delivery(
    headers: Mapping[str, str], body: bytes, secret: str | None, insecure_dev: bool = False
) -> GithubDelivery:
    """Verify `X-Hub-Signature-256` (401 when wrong) and parse the body (400 when malformed)."""
    if secret or not insecure_dev:
        if not signatures.verify(secret, body, headers.get("X-Hub-Signature-256")):
            raise ApiError(401, "bad_signature", "X-Hub-Signature-256 is missing or does not match the body")
    event = headers.get("X-GitHub-Event", "")
    delivery = headers.get("X-GitHub-Delivery", "")
    if not event or not event.replace("_", "").isalnum():
        raise ApiError(400, "missing_event", "X-GitHub-Event header is missing or malformed")
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_payload", "the payload must be a JSON object")
    return GithubDelivery(event, delivery[:100], payload)


def _repository(payload: dict[str, Any]) -> tuple[Any, Any]:
    """(owner, repo) as the payload has them, unchecked: callers pass both through validate_git."""
    repo = payload.get("repository")
    if not isinstance(repo, dict):
        raise ApiError(400, "invalid_payload", "payload.repository is missing")
    owner = repo.get("owner") or {}
    owner_name = owner.get("login") or owner.get("name") if isinstance(owner, dict) else None
    return owner_name, repo.get("name")


def split_ref(full_ref: str) -> tuple[str, str]:
    """`refs/heads/feature/x` → ("feature/x", "branch"); `refs/tags/v1` → ("v1", "tag")."""
    for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
        if full_ref.startswith(prefix):
            return full_ref[len(prefix) :], kind
    raise ApiError(400, "invalid_payload", f"unsupported ref {full_ref!r}")


def push_ref(payload: dict[str, Any]) -> GitRef:
    """The ref and commit a `push` event is about (commit None when the ref was deleted)."""
    owner, repo = _repository(payload)
    ref, kind = split_ref(str(payload.get("ref", "")))
    deleted = bool(payload.get("deleted")) or payload.get("after") == ZERO_COMMIT
    commit = None if deleted else payload.get("after")
    if not deleted and not is_commit(commit):
        raise ApiError(400, "invalid_payload", "payload.after is not a 40-hex commit id")
    validate_git({"owner": owner, "repo": repo, "ref": ref}, ("owner", "repo", "ref"))
    return GitRef(owner, repo, ref, kind, commit, deleted=deleted, created=bool(payload.get("created")))


def create_or_delete_ref(payload: dict[str, Any], deleted: bool) -> GitRef:
    """The ref of a `create` or `delete` event (payload.ref is the short name)."""
    owner, repo = _repository(payload)
    kind = payload.get("ref_type")
    if kind not in ("branch", "tag"):
        raise ApiError(400, "invalid_payload", "payload.ref_type must be branch or tag")
    ref = payload.get("ref")
    validate_git({"owner": owner, "repo": repo, "ref": ref}, ("owner", "repo", "ref"))
    # validate_git has checked that ref is a valid ref name, so a str
    return GitRef(owner, repo, cast(str, ref), kind, None, deleted=deleted, created=not deleted)


def first_delivery(redis_client, service: str, delivery: str, ttl: int = 24 * 3600) -> bool:
    """True the first time a delivery id is seen by `service` (atomic SET NX with expiry)."""
    if not delivery:
        return True
    return bool(redis_client.set(f"totem:{service}:delivery:{delivery}", "1", nx=True, ex=ttl))


def forget_delivery(redis_client, service: str, delivery: str) -> None:
    """Let a redelivery of `delivery` through again (its processing failed before it was kept)."""
    if delivery:
        redis_client.delete(f"totem:{service}:delivery:{delivery}")
