"""Who the operator is, as the services say (`GET /whoami`), and what the pages may offer them.

The dashboard never decides what a token may do: the services answer every action with their own
401/403. It asks `/whoami` at sign-in and again at most every RECHECK seconds (a revoked token signs
the session out), and hides the buttons of actions the role or the token's scope does not allow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import requests
from flask import current_app, flash, redirect, request, url_for

from totem.access.roles import ROLES, includes
from totem_client import Clients, ServiceClient, ServiceError
from totem_dashboard import security
from totem_dashboard.render import clients

C = TypeVar("C", bound=ServiceClient)
FORWARDED = "X-Forwarded-For"  # the browser's address, which the services' audit records keep as claimed
RECHECK = 60.0  # seconds a /whoami answer is trusted before the next page asks again
NEEDS = {  # dashboard action -> the action the services check (totem.access.roles.ACTIONS)
    "rollback": "rollback",
    "redeploy": "rollback",  # a redeploy is a rollback to the live version
    "undeploy": "undeploy",
    "promote": "promote",
    "abort": "abort",
    "pause": "pause",
    "resume": "resume",
    "maintenance-on": "maintenance",
    "maintenance-off": "maintenance",
    "approve": "approve",
    "reject": "approve",
}


def _ask(client: ServiceClient, token: str) -> dict:
    return client.with_token(token).request("GET", "/whoami", auth=True)


def whoami(services: Clients, token: str) -> dict:
    """The token's name, role, scopes and envs: the deployer's answer, the orchestrator's when the
    deployer is unreachable. ServiceError 401 for a token no service accepts."""
    try:
        return _ask(services.deployer, token)
    except ServiceError as exc:
        if exc.status is not None:
            raise
    return _ask(services.orchestrator, token)


@contextmanager
def acting(client: C, token: str) -> Iterator[C]:
    """`client` with the operator's token, telling the service the browser's address."""
    found = client.with_token(token)
    if not isinstance(found, ServiceClient):  # a test's stand-in
        yield found
        return
    with requests.Session() as session:  # its own: the shared session serves every other request
        session.headers[FORWARDED] = request.remote_addr or ""
        found.session = session
        yield found


def recheck() -> None:
    """Before a page: ask again when the last answer is older than RECHECK; a 401 signs the session out."""
    if request.endpoint in (None, "static", "health.health") or request.blueprint == "auth":
        return  # signing in or out decides by itself
    if security.token() is None:
        return
    if time.time() - security.checked_at() < current_app.config.get("TOTEM_DASHBOARD_RECHECK", RECHECK):
        return
    try:
        security.remember(whoami(clients(), security.token() or ""))
    except ServiceError as exc:
        if exc.status == 401:
            end_session(exc)
        # a service down: keep the session, the next page asks again


def end_session(error: ServiceError) -> None:
    security.sign_out()
    flash(f"Signed out: the {error.service} no longer accepts your token ({error.message}).", "error")


def ended(error: ServiceError):
    """A 401 to the operator's token: sign out and send them to the sign-in page; None otherwise."""
    if error.status != 401 or security.token() is None:
        return None
    end_session(error)
    if request.headers.get("X-Fragment") == "1":
        return "", 401  # the page's script keeps the last part shown; the next whole page is signed out
    return redirect(url_for("auth.login", next=request.path))


def may(action: str, owner: str | None = None, repo: str | None = None) -> bool:
    """Whether to offer `action` (a dashboard action) on an app of owner/repo. Signed out: yes (its
    confirmation asks for a sign-in); signed in: what the role, environments and repo scopes allow."""
    who = security.principal()
    if who is None:
        return True
    env = current_app.config["TOTEM_SETTINGS"].env
    return who.can(NEEDS.get(action, action)) and who.covers_env(env) and who.covers_repo(owner or None, repo or None)


def may_decide(job: dict) -> bool:
    """Whether to offer Approve / Reject on a job awaiting approval: its repo in scope, and the token
    among the policy's approvers (a role name admits that role or higher, any other entry names a
    token) and not the push's own author unless the policy allows self-approval."""
    if not may("approve", job.get("owner"), job.get("repo")):
        return False
    who = security.principal()
    if who is None:
        return True
    approval = job.get("approval") or {}
    chosen = approval.get("policy") or approval
    approvers = chosen.get("approvers") or ["admin"]
    if not any(includes(who.role, entry) if entry in ROLES else entry == who.name for entry in approvers):
        return False
    author = (job.get("trigger") or {}).get("actor")
    return bool(chosen.get("self-approval")) or not (
        isinstance(author, str) and author.casefold() == who.name.casefold()
    )
