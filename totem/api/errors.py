"""One JSON error envelope for every 4xx/5xx: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, g, jsonify
from kombu.exceptions import OperationalError
from werkzeug.exceptions import HTTPException

from totem import metrics
from totem.errors import TotemError
from totem.store.errors import StoreUnavailable

log = logging.getLogger("totem.api")


class ApiError(TotemError):
    def __init__(self, status: int, code: str, message: str, details: Any = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
        self.headers = headers or {}


def invalid_parameter(name: str, message: str) -> ApiError:
    """The 400 for a bad query parameter `name`: "<name> <message>", the parameter in the details."""
    return ApiError(400, "invalid_parameter", f"{name} {message}", {"parameter": name})


def error_response(status: int, code: str, message: str, details: Any = None, headers: dict | None = None):
    body = {"error": {"code": code, "message": message, "details": details if details is not None else {}}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


def http_error(exc: HTTPException):
    headers = dict(exc.get_headers()) if exc.code == 405 else {}
    headers.pop("Content-Type", None)
    return error_response(exc.code or 500, _code_for(exc), exc.description or exc.name, None, headers)


# a dependency that does not answer: the request may be retried as it is, so never a 500
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OperationalError, StoreUnavailable)


def dependency_unavailable(exc: Exception):
    if not isinstance(exc, StoreUnavailable):  # etcd's are counted where the store raised them
        metrics.store_error("redis")
    log.warning("a dependency is unavailable: %s: %s", type(exc).__name__, str(exc)[:200])
    return error_response(503, "unavailable", "a dependency is unavailable; retry later", None, {"Retry-After": "5"})


def unexpected_error(exc: Exception):
    log.exception("unhandled error")
    return error_response(
        500,
        "internal_error",
        "internal error; see the service log",
        {"request_id": getattr(g, "request_id", None)},
    )


def install(app: Flask) -> None:
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(HTTPException, http_error)
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, dependency_unavailable)
    app.register_error_handler(Exception, unexpected_error)
