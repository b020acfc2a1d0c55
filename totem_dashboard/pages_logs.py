"""The app page's live log: `GET /apps/<name>/logs` passes the deployer's followed NDJSON on to the
page's script (static/app_logs.js), keep-alives included, so the browser reads one stream; the
deployer's refusals (a bad `since`, too many followers) come back with their status as JSON."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request

from totem.api import errors
from totem_client import ServiceError, app_logs
from totem_dashboard.render import clients

blueprint = Blueprint("logs", __name__)
TAIL = 100  # lines per instance shown when the panel opens
PASSED_ON = (400, 404, 429, 501)  # the deployer's answers the page's script handles itself


@blueprint.get("/apps/<name>/logs")
def follow_app(name: str):
    since = request.args.get("since", "").strip()[:100] or None
    lines = app_logs.lines(clients().deployer, name, since=since, tail=None if since else TAIL, follow=True)
    try:
        first = next(lines, b"")  # the deployer's refusal comes before its first line
    except ServiceError as exc:
        status = exc.status if exc.status in PASSED_ON else 502
        headers = {"Retry-After": "10"} if status == 429 else None
        return errors.error_response(status, exc.code, exc.message, {"service": exc.service}, headers)
    return Response(
        _passed_on(first, lines),
        mimetype=app_logs.NDJSON,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _passed_on(first: bytes, lines: Iterator[bytes]) -> Iterator[bytes]:
    """The lines as the deployer sent them; closing this (the browser left) closes the deployer's answer."""
    try:
        yield first + b"\n"
        for line in lines:
            yield line + b"\n"
    except ServiceError:
        return  # the deployer went away: the page's script reconnects
    finally:
        close = getattr(lines, "close", None)
        if close is not None:
            close()
