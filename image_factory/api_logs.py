"""`GET /builds/<id>/log`: the whole log as text, or `?follow=1` as a text/event-stream of new lines.

Followers are capped per worker process (totem.api.followers): one over the cap is a 429."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, request, stream_with_context

from image_factory.api_builds import load_build
from image_factory.intake import intake
from image_factory.live_log import live_text, read_live
from image_factory.states import FINISHED
from totem.api import ApiError
from totem.waiting import Deadline

blueprint = Blueprint("logs", __name__)
FOLLOW_LIMIT_SECONDS = 3600  # a follower is cut off after an hour (it may reconnect with Last-Event-ID)
POLL_MS = 1000
FOLLOW_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
_LAST_ID = 2**64 - 1  # Redis stream ids are two unsigned 64-bit numbers


@blueprint.get("/builds/<build_id>/log")
def build_log(build_id: str):
    follow = _follow_arg()
    record = load_build(build_id)
    factory = intake().factory
    stream_key = factory.store.key("log", record["id"])
    if follow:
        return _follow_response(factory.store, record["id"], stream_key)
    text = factory.archive.load(record["id"]) if record["status"] in FINISHED else None
    if text is None:
        text = live_text(factory.store.redis, stream_key)
    return Response(text, mimetype="text/plain", headers={"X-Build-Status": record["status"]})


def _follow_arg() -> bool:
    values = request.args.getlist("follow")
    if not values:
        return False
    if len(values) > 1 or values[0] not in FOLLOW_VALUES:
        raise ApiError(400, "invalid_query", f"follow must be one of {', '.join(FOLLOW_VALUES)}", {"field": "follow"})
    return FOLLOW_VALUES[values[0]]


def _follow_response(store, build_id: str, stream_key: str) -> Response:
    """The event stream, holding one follower slot until the answer is closed (the stream ended or
    the client went away: the WSGI server closes the answer either way)."""
    release = intake().followers.take_or_refuse("build logs")
    try:
        after = request.headers.get("Last-Event-ID", "0-0")
        events = _follow(store, build_id, stream_key, after if _is_stream_id(after) else "0-0")
        response = Response(
            stream_with_context(_releasing(events, release)),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        response.call_on_close(release)  # also when the stream is closed before its first event
    except BaseException:
        release()
        raise
    return response


def _releasing(events: Iterator[str], release: Callable[[], None]) -> Iterator[str]:
    """`events`, releasing the slot when they end, fail or are closed."""
    try:
        yield from events
    finally:
        release()


def _is_stream_id(value: str) -> bool:
    """`<ms>-<seq>` as Redis makes them; the very last id is refused too (nothing can follow it)."""
    match = _STREAM_ID.fullmatch(value)
    if match is None:
        return False
    ms, seq = (int(part) for part in match.groups())
    return ms <= _LAST_ID and seq <= _LAST_ID and (ms, seq) != (_LAST_ID, _LAST_ID)


def _event(entry_id: str, event: str, data: str) -> str:
    return f"id: {entry_id}\nevent: {event}\ndata: {data}\n\n"


def _follow(store, build_id: str, stream_key: str, after: str) -> Iterator[str]:
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
