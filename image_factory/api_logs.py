"""`GET /builds/<id>/log`: the whole log as text, or `?follow=1` as a text/event-stream of new lines."""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context

from image_factory.api_builds import load_build
from image_factory.intake import intake
from image_factory.live_log import live_text, read_live
from image_factory.states import FINISHED
from totem.waiting import Deadline

blueprint = Blueprint("logs", __name__)
FOLLOW_LIMIT_SECONDS = 3600  # a follower is cut off after an hour (it may reconnect with Last-Event-ID)
POLL_MS = 1000


@blueprint.get("/builds/<build_id>/log")
def build_log(build_id: str):
    record = load_build(build_id)
    factory = intake().factory
    stream_key = factory.store.key("log", record["id"])
    if request.args.get("follow") in ("1", "true", "yes"):
        after = request.headers.get("Last-Event-ID", "0-0")
        if not _is_stream_id(after):
            after = "0-0"
        return Response(
            stream_with_context(_follow(factory.store, record["id"], stream_key, after)),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    text = factory.archive.load(record["id"]) if record["status"] in FINISHED else None
    if text is None:
        text = live_text(factory.store.redis, stream_key)
    return Response(text, mimetype="text/plain", headers={"X-Build-Status": record["status"]})


def _is_stream_id(value: str) -> bool:
    first, _, second = value.partition("-")
    return first.isdigit() and second.isdigit()


def _event(entry_id: str, event: str, data: str) -> str:
    return f"id: {entry_id}\nevent: {event}\ndata: {data}\n\n"


def _follow(store, build_id: str, stream_key: str, after: str):
    """Everything after `after`, then new lines as they arrive, until the end-of-log marker."""
    redis = store.redis
    limit = Deadline(FOLLOW_LIMIT_SECONDS)
    backlog = True
    while not limit.expired:
        entries = list(read_live(redis, stream_key, after, None if backlog else POLL_MS))
        backlog = bool(entries) and backlog
        for entry_id, fields in entries:
            after = entry_id
            if "eof" in fields:
                yield _event(entry_id, "end", fields["eof"])
                return
            yield _event(entry_id, "line", fields.get("line", ""))
        if not entries:
            record = store.get(build_id)
            if record is None or (record["status"] in FINISHED and not redis.exists(stream_key)):
                yield _event(after, "end", record["status"] if record else "unknown")
                return
            yield ": keep-alive\n\n"
