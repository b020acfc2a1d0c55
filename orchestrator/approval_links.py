"""Signed approve/reject links for notifications (docs/approvals.md).

`<TOTEM_ORCHESTRATOR_URL>/approvals/<job>/<decision>?commit=<sha>&expires=<unix>&signature=<hex>`:
the signature is an HMAC-SHA256 over the job id, the commit held, the decision and the expiry, keyed
by HMAC(TOTEM_HOOK_SECRET, "approval-link") so a link's key is never the hook secret itself. A link
is a bearer capability until it expires (the approval's deadline), for that commit only (a newer
commit of the job asks again, with new links); the job's state makes it decide at most once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from orchestrator.errors import OrchestratorError

DECISIONS = ("approve", "reject")
PURPOSE = b"approval-link"


class LinkInvalid(OrchestratorError):
    """The link's signature, expiry or decision is not one this orchestrator issued (message: which)."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def signature(secret: str, job_id: str, commit: str, decision: str, expires: int) -> str:
    message = f"{job_id}\n{commit}\n{decision}\n{expires}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def path(job_id: str, decision: str) -> str:
    return f"/approvals/{job_id}/{decision}"


def link(base_url: str, secret: str, job_id: str, commit: str, decision: str, expires: int) -> str:
    signed = signature(secret, job_id, commit, decision, expires)
    query = urlencode({"commit": commit, "expires": expires, "signature": signed})
    return f"{base_url.rstrip('/')}{path(job_id, decision)}?{query}"


def verify(
    secret: str | None, job_id: str, decision: str, commit: str | None, expires: str | None, signed: str | None
) -> None:
    """Raise LinkInvalid unless the link is one issued for this job, commit and decision, and not expired."""
    if not secret:
        raise LinkInvalid("this orchestrator issues no signed links (no TOTEM_HOOK_SECRET)")
    if decision not in DECISIONS:
        raise LinkInvalid(f"decision must be one of {', '.join(DECISIONS)}")
    if not (expires and expires.isascii() and expires.isdigit() and len(expires) <= 12) or not signed or not commit:
        raise LinkInvalid("the link lacks its commit, expires or signature parameter")
    expected = signature(secret, job_id, commit, decision, int(expires))
    if not hmac.compare_digest(expected.encode(), signed.encode(errors="replace")):
        raise LinkInvalid("the link's signature is not valid")
    if time.time() >= int(expires):
        raise LinkInvalid("the link has expired")
