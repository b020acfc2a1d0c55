"""`GET /apps/<name>/logs`: the app's instance logs merged in time order, as NDJSON (one entry a line:
`{time, instance, node, host, version, stream, line}`); `follow=1` keeps the answer open and sends
new lines as they come, an empty line as a keep-alive every KEEP_ALIVE seconds without any.

Read like the other app reads (no token). Followers are capped per worker process
(TOTEM_DEPLOYER_MAX_FOLLOWERS): one over the cap is a 429. A follower is cut off after
FOLLOW_LIMIT_SECONDS (it may ask again with `since` set to the last time it got)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, current_app, request

from deployer import log_merge, log_sources
from deployer.api import APP_NAME, VERSION, _records_of
from totem.access.audit_api import when
from totem.api import ApiError, invalid_parameter
from totem.api.followers import FollowerSlots
from totem.waiting import Deadline

blueprint = Blueprint("logs", __name__)
NDJSON = "application/x-ndjson"
KEEP_ALIVE = 2.0  # seconds: proxies see the answer alive, and a client gone is noticed this soon
FOLLOW_LIMIT_SECONDS = 3600
DEFAULT_TAIL = 100  # lines per instance without `since`
MAX_TAIL = 10000  # lines per instance at most (the default with `since`)
FOLLOW_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
INSTANCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,299}$"
INSTANCE = re.compile(INSTANCE_PATTERN)
QUERY = ("since", "version", "instance", "tail", "follow")


def _one(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise invalid_parameter(name, "may be given once")
    return values[0] if values else None


def _query() -> dict:
    """The query's values (400 for the first bad one): since in Unix ns or None, version, instance,
    tail, follow."""
    since, version, instance, tail, follow = (_one(name) for name in QUERY)
    if follow is not None and follow not in FOLLOW_VALUES:
        raise invalid_parameter("follow", f"must be one of {', '.join(FOLLOW_VALUES)}")
    if version is not None and not VERSION.fullmatch(version):
        raise invalid_parameter("version", "must be a version (letters, digits, _ . -)")
    if instance is not None and not INSTANCE.fullmatch(instance):
        raise invalid_parameter("instance", "must be an instance name or number (letters, digits, _ . -)")
    if tail is not None and not (tail.isascii() and tail.isdigit() and len(tail) <= 6 and int(tail) <= MAX_TAIL):
        raise invalid_parameter("tail", f"must be a number of lines from 0 to {MAX_TAIL}")
    since_ns = _since(since) if since is not None else None
    lines = int(tail) if tail is not None else (MAX_TAIL if since_ns else DEFAULT_TAIL)
    return {
        "since": since_ns,
        "version": version,
        "instance": instance,
        "tail": lines,
        "follow": FOLLOW_VALUES[follow] if follow else False,
    }


def _since(raw: str) -> int:
    exact = log_sources.parse_time(raw.strip())  # an entry's own `time`, to the nanosecond (no float)
    if exact is not None and exact > 0:
        return exact
    try:
        seconds = when("since", raw, time.time())
        ns = int(seconds * 1e9)
    except (OverflowError, OSError, ValueError):  # a time no clock reaches
        raise invalid_parameter("since", "is out of range") from None
    if ns <= 0:
        raise invalid_parameter("since", "must be after 1970")
    return ns


def matches(source: log_sources.Source, version: str | None, instance: str | None) -> bool:
    """`instance`: the node's name, its short name (without "<app>-"), or N for the Nth of each deployment."""
    if version is not None and source.version != version:
        return False
    if instance is None:
        return True
    if instance.isdigit():
        return source.node.rsplit("-", 1)[-1] == instance
    return instance in (source.node, source.instance)


def _line(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


@blueprint.get("/apps/<name>/logs")
def app_logs(name: str):
    if not APP_NAME.fullmatch(name):
        raise ApiError(404, "not_found", f"no app named {name[:80]!r}")
    query = _query()
    records = _records_of(name)  # 404 when it has none
    if query["version"] is not None and not any(r["version"] == query["version"] for r in records):
        raise ApiError(404, "not_found", f"{name} has no version {query['version']!r}")
    ctx = current_app.extensions["deployer"].ctx

    def listing() -> list[log_sources.Source]:
        found = log_sources.sources(ctx, name, ctx.records.for_app(name) or records)
        return [s for s in found if matches(s, query["version"], query["instance"])]

    try:
        found = listing()
    except log_sources.LogsUnsupported as exc:
        raise ApiError(501, "not_supported", str(exc)) from None
    if query["instance"] is not None and not found:
        raise ApiError(404, "not_found", f"{name} has no instance {query['instance']!r}")
    start_ns = time.time_ns()
    if not query["follow"]:
        entries, _ = log_merge.backlog(ctx, found, query["since"], query["tail"])
        return Response("".join(_line(e) for e in entries), mimetype=NDJSON)
    release = _followers(ctx).take_or_refuse("logs")
    try:
        response = Response(
            _follow(ctx, found, listing, query, start_ns, release),
            mimetype=NDJSON,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        response.call_on_close(release)  # also when the answer is closed before its first line
    except BaseException:
        release()
        raise
    return response


def _followers(ctx) -> FollowerSlots:
    found = current_app.extensions.get("deployer.log_followers")
    if found is None:
        found = current_app.extensions.setdefault("deployer.log_followers", FollowerSlots(ctx.options.max_followers))
    return found


def _follow(ctx, found, listing, query: dict, start_ns: int, release: Callable[[], None]) -> Iterator[str]:
    """The backlog, then live lines until the limit or until the client goes (the WSGI server then
    closes this generator: the readers stop, the slot is released)."""
    live = None
    try:
        entries, last = log_merge.backlog(ctx, found, query["since"], query["tail"])
        yield "".join(_line(e) for e in entries) or "\n"  # the headers go out at once
        live = log_merge.Live(ctx, listing, last, start_ns)
        live.attach(found)
        limit = Deadline(FOLLOW_LIMIT_SECONDS)
        sent = time.monotonic()
        for batch in live.lines():
            if batch:
                yield "".join(_line(e) for e in batch)
                sent = time.monotonic()
            elif time.monotonic() - sent >= KEEP_ALIVE:
                yield "\n"
                sent = time.monotonic()
            if limit.expired:
                return
    finally:
        if live is not None:
            live.stop()
        release()
