"""Bearer-token authentication for write endpoints (constant-time comparison)."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from totem.api.errors import ApiError

F = TypeVar("F", bound=Callable)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="totem"'}


def check_token(header: str | None, token: str | None, insecure_dev: bool = False) -> None:
    if not token:
        if insecure_dev:
            return
        raise ApiError(503, "auth_not_configured", "write endpoints are disabled: set TOTEM_API_TOKEN")
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)", None, _CHALLENGE)
    if not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise ApiError(401, "unauthorized", "invalid bearer token", None, _CHALLENGE)


def require_token(view: F) -> F:
    """Decorate a view that changes state."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        settings = current_app.config["TOTEM_SETTINGS"]
        check_token(request.headers.get("Authorization"), settings.api_token, settings.insecure_dev)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
