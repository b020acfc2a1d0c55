"""Travis CI webhooks: form field `payload`, `Signature` = base64 RSA-SHA1 of it, checked with Travis's public key."""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from orchestrator.jobs.model import Hook
from totem.api import ApiError, parse_json
from totem.contracts.hook import HookStatus
from totem.git_names import validate_git

NAME = "travis"
SUCCESS = {"passed", "fixed"}
PENDING = {"pending", "started", "created", "queued"}


@functools.lru_cache(maxsize=4)
def _public_key(pem: str):
    return serialization.load_pem_public_key(pem.encode())


def verify(public_key_pem: str | None, payload: str, signature_header: str | None) -> None:
    if not public_key_pem:
        raise ApiError(503, "travis_not_configured", "set TOTEM_TRAVIS_PUBLIC_KEY to receive Travis hooks")
    try:
        signature = base64.b64decode(signature_header or "", validate=True)
        _public_key(public_key_pem).verify(signature, payload.encode(), padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, binascii.Error, ValueError):
        raise ApiError(401, "bad_signature", "Signature is missing or does not match the payload") from None


def status_of(payload: dict) -> HookStatus:
    message = str(payload.get("status_message") or payload.get("result_message") or "").lower()
    if message in SUCCESS:
        return HookStatus.SUCCESS
    if message in PENDING:
        return HookStatus.PENDING
    return HookStatus.FAILED


def read(payload: str | None, signature_header: str | None, public_key_pem: str | None) -> Hook | None:
    """The CI hook a Travis build notification carries (None for pull requests, which never deploy)."""
    if payload is None:
        raise ApiError(400, "invalid_payload", "form field `payload` is missing")
    verify(public_key_pem, payload, signature_header)
    data = parse_json(payload, "form field `payload`")
    if not isinstance(data, dict) or not isinstance(data.get("repository"), dict):
        raise ApiError(400, "invalid_payload", "payload.repository is missing")
    if data.get("type") == "pull_request" or data.get("pull_request"):
        return None
    repo = data["repository"]
    git = {
        "owner": repo.get("owner_name"),
        "repo": repo.get("name"),
        "ref": data.get("branch"),
        "commit": data.get("commit"),
    }
    validate_git(git)
    return Hook(
        **git,
        type="ci",
        name=NAME,
        status=status_of(data),
        source="travis",
        result={"build-url": str(data.get("build_url") or ""), "number": str(data.get("number") or "")},
    )
