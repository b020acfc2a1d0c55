"""The check every write endpoint makes, and the audit record it leaves.

`@require(action)` authenticates the bearer token (401), checks its role and environment (403), runs
the view, then appends one audit record whatever the outcome. A view whose target is an app calls
`authorize(owner, repo)` before it changes anything: a token scoped to other repos gets a 403.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask import current_app, g, request

from totem.access.audit import AuditLog
from totem.access.principal import BOOTSTRAP, Principal
from totem.access.roles import role_for
from totem.access.tokens import TokenStore
from totem.api.errors import UNAVAILABLE, ApiError

F = TypeVar("F", bound=Callable)
log = logging.getLogger("totem.access")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="totem"'}
# a service acting for someone says who (JSON: {"actor", "kind", ...}; "recorded": it wrote the record
# itself); heard only from BOOTSTRAP
TRIGGER = "X-Totem-Trigger"
FORWARDED = "X-Forwarded-For"  # the dashboard passes on its browser's address: recorded as claimed
TARGET_ARGS = {
    "name": "app",
    "owner": "owner",
    "repo": "repo",
    "ref": "ref",
    "version": "version",
    "job_id": "job",
    "token_name": "token",
}


class Access:
    """The token store and the audit trail of one process (one Redis client, made on first use)."""

    def __init__(self, settings):
        client = redis.Redis.from_url(
            settings.redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=3
        )
        self.tokens = TokenStore(client, settings.access_prefix)
        self.audit = AuditLog(client, settings.access_prefix)


def access() -> Access:
    found = current_app.extensions.get("totem.access")
    if found is None:
        found = current_app.extensions["totem.access"] = Access(current_app.config["TOTEM_SETTINGS"])
    return found


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, None, CHALLENGE)


def authenticate() -> Principal:
    """The request's principal: TOTEM_API_TOKEN (constant-time compare) or a stored token."""
    if "principal" in g:
        return g.principal
    settings = current_app.config["TOTEM_SETTINGS"]
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        if settings.insecure_dev and not settings.api_token:
            g.principal = Principal("anonymous", "admin", kind="dev")
            return g.principal
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    if settings.api_token and hmac.compare_digest(presented.encode(), settings.api_token.encode()):
        principal: Principal | None = Principal(BOOTSTRAP, "admin", kind="bootstrap")
    else:
        principal = access().tokens.lookup(presented)
    if principal is None:
        raise _unauthorized("invalid, expired or revoked bearer token")
    g.principal = principal
    return principal


def forbidden(principal: Principal, message: str) -> ApiError:
    return ApiError(403, "forbidden", f"token {principal.name} ({principal.role}) {message}", {"token": principal.name})


def allow(action: str) -> Principal:
    """Authenticate and check the role and this service's environment; the principal."""
    principal = authenticate()
    if not principal.can(action):
        raise forbidden(principal, f"may not do '{action}': it needs the {role_for(action)} role")
    env = current_app.config["TOTEM_SETTINGS"].env
    if not principal.covers_env(env):
        raise forbidden(principal, f"is not valid in environment {env}")
    return principal


def authorize(owner: str | None, repo: str | None, **target: Any) -> None:
    """Check the token's repo scope for the app the view is about to change; recorded as the target."""
    audit_target = g.setdefault("audit", {}).setdefault("target", {})
    audit_target.update({k: v for k, v in {"owner": owner, "repo": repo, **target}.items() if v is not None})
    principal = authenticate()
    if not principal.covers_repo(owner, repo):
        what = f"{owner}/{repo}" if owner and repo else "an app without an owner/repo"
        raise forbidden(principal, f"is not scoped to {what}")


def require(action: str, audited: bool = True) -> Callable[[F], F]:
    """Decorate a view: `action` names what it does (see roles.ACTIONS)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            target = {TARGET_ARGS[k]: v for k, v in kwargs.items() if k in TARGET_ARGS}
            g.audit = {"action": action, "target": target}
            status = 500
            try:
                allow(action)
                response = current_app.make_response(view(*args, **kwargs))
                status = response.status_code
                return response
            except ApiError as exc:
                status = exc.status
                raise
            except UNAVAILABLE:
                status = 503
                raise
            finally:
                if audited and current_app.config["TOTEM_SETTINGS"].audit:
                    record(status)

        return wrapper  # type: ignore[return-value]

    return decorate


def _trigger(principal: Principal | None) -> dict[str, str] | None:
    raw = request.headers.get(TRIGGER)
    if not raw or principal is None or principal.kind != "bootstrap":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("actor"), str):
        return None
    return {str(k)[:40]: str(v)[:200] for k, v in value.items() if isinstance(v, (str, int))}


def outcome(status: int) -> str:
    if status < 400:
        return "ok"
    return "denied" if status in (401, 403) else "refused" if status < 500 else "error"


def record(status: int, **details: Any) -> None:
    """Append the request's audit record; a store that is down loses it to the log, never the request."""
    principal = g.get("principal")
    audit = g.get("audit") or {}
    trigger = _trigger(principal)
    if trigger and trigger.get("recorded"):
        return  # the service that called recorded the action (one record an action)
    actor, kind = (principal.name, principal.kind) if principal else ("anonymous", "none")
    if trigger:
        details["via"] = actor
        actor, kind = trigger.pop("actor"), trigger.pop("kind", "hook")
        details.update(trigger)
    if request.headers.get(FORWARDED):
        details["forwarded-for"] = request.headers[FORWARDED][:200]
    try:
        access().audit.append(
            actor,
            kind,
            audit.get("action", request.endpoint or "?"),
            audit.get("target", {}),
            outcome(status),
            status,
            request.remote_addr,
            {**audit.get("details", {}), **details},
        )
    except UNAVAILABLE as exc:
        log.error(
            "audit record lost (%s): %s %s by %s -> %s", type(exc).__name__, request.method, request.path, actor, status
        )
