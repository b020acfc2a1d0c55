"""GitHub webhooks: signature check, JSON or form-encoded deliveries, de-duplication, push payload parsing."""

from __future__ import annotations

import re
import urllib.parse
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


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"  # GitHub's other content type: `payload=<url-encoded JSON>`
CONTENT_TYPES = (JSON, FORM)
MAX_FORM_FIELDS = 100
_EVENT = re.compile(r"[A-Za-z0-9_]{1,64}")


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header by name, case-insensitively (Flask's headers are; a plain dict may not be)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value or ""


def media_type(content_type: str) -> str:
    """`application/json; charset=utf-8` → `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def _form_payload(body: bytes) -> str:
    """The `payload` field of a form-encoded delivery (400 when missing, repeated or not UTF-8)."""
    try:
        fields = urllib.parse.parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise ApiError(
            400, "invalid_form", f"the body is not UTF-8 form data of at most {MAX_FORM_FIELDS} fields"
        ) from None
    payloads = [value for name, value in fields if name == "payload"]
    if not payloads:
        raise ApiError(400, "invalid_payload", "form field `payload` is missing", {"field": "payload"})
    if len(payloads) > 1:
        raise ApiError(400, "invalid_payload", "form field `payload` is repeated", {"field": "payload"})
    return payloads[0]


def read_delivery(
    headers: Mapping[str, str], body: bytes, secret: str | None, insecure_dev: bool = False
) -> GithubDelivery:
    """Verify `X-Hub-Signature-256` over the raw body as sent (401 when wrong), then read the payload
    the way the `Content-Type` says: `application/json` (the body is the JSON) or
    `application/x-www-form-urlencoded` (the JSON is the `payload` field). Another or no content type
    is a 415; a malformed payload a 400."""
    if secret or not insecure_dev:
        if not signatures.verify(secret, body, _header(headers, "X-Hub-Signature-256") or None):
            raise ApiError(401, "bad_signature", "X-Hub-Signature-256 is missing or does not match the body")
    event = _header(headers, "X-GitHub-Event")
    delivery = _header(headers, "X-GitHub-Delivery")
    if not _EVENT.fullmatch(event):
        raise ApiError(400, "missing_event", "X-GitHub-Event header is missing or malformed")
    kind = media_type(_header(headers, "Content-Type"))
    if kind == JSON:
        payload = parse_json(body)
    elif kind == FORM:
        payload = parse_json(_form_payload(body), "form field `payload`")
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the delivery as {JSON} or {FORM} (got {kind[:100] or 'no Content-Type'})",
            {"accepted": list(CONTENT_TYPES)},
        )
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
