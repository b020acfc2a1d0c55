"""Errors as pages for a browser, and as the services' JSON envelope for API-style requests
(`/health`, the build page's log lines, any client that asks for JSON)."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from totem.api import errors
from totem_client import ServiceError
from totem_dashboard import identity

JSON_ENDPOINTS = {"health.health", "activity.build_log_lines"}
log = logging.getLogger("totem_dashboard")


def wants_json() -> bool:
    if request.endpoint in JSON_ENDPOINTS:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def service_error(error: ServiceError):
    signed_out = identity.ended(error)
    if signed_out is not None and not wants_json():
        return signed_out
    status = error.status if error.status in (404,) else 502
    if wants_json():
        return errors.error_response(status, error.code, error.message, {"service": error.service})
    return render_template("error.html", error=error, status=status), status


def http_error(exc: HTTPException):
    return errors.http_error(exc) if wants_json() else exc.get_response()


def unexpected_error(exc: Exception):
    if wants_json():
        return errors.unexpected_error(exc)
    log.exception("unhandled error")
    return InternalServerError().get_response()


def install(app: Flask) -> None:
    """Takes the place of the service base's JSON-only handlers."""
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
