"""The operator's token in the session (encrypted, in a signed HttpOnly SameSite=Strict cookie), who it
names (its name, role, scopes and environments as the services' `/whoami` said), and CSRF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session

from totem.access import Principal

TOKEN_KEY, CSRF_KEY, WHO_KEY, CHECKED_KEY = "token", "csrf", "who", "checked"


def configure(app) -> None:
    secret = os.environ.get("TOTEM_DASHBOARD_SECRET") or secrets.token_hex(32)
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="totem_dashboard",
        SESSION_COOKIE_SECURE=os.environ.get("TOTEM_DASHBOARD_SECURE_COOKIE", "") in ("1", "true"),
    )


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"totem-dashboard-token\0" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def sign_in(token: str, who: dict) -> None:
    """`who`: the `/whoami` answer for `token`."""
    session.clear()
    session[TOKEN_KEY] = _fernet().encrypt(token.encode()).decode()
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    remember(who)


def remember(who: dict) -> None:
    """Keep what the services said of the token (the session cookie is signed: the browser cannot change it)."""
    session[WHO_KEY] = {k: who.get(k) for k in ("name", "role", "scopes", "envs")}
    session[CHECKED_KEY] = time.time()


def checked_at() -> float:
    return float(session.get(CHECKED_KEY) or 0)


def principal() -> Principal | None:
    """Who the signed-in operator acts as; None when signed out."""
    who = session.get(WHO_KEY)
    if not who or token() is None:
        return None
    return Principal(
        str(who.get("name") or "?"),
        str(who.get("role") or "viewer"),
        tuple(who.get("scopes") or ("*",)),
        tuple(who.get("envs") or ("*",)),
    )


def sign_out() -> None:
    session.clear()


def token() -> str | None:
    sealed = session.get(TOKEN_KEY)
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def csrf_token() -> str:
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def csrf_ok(given: str | None) -> bool:
    expected = session.get(CSRF_KEY)
    if not given or not expected:
        return False
    return same(given, expected)
