"""An app's instance logs at their source: each instance's own Docker log, read through the engine
of the host it runs on (docker: the container on its host; swarm: the instance's service through the
manager, which gathers its task's log from whichever node runs it). No collector is needed.

A read is a Docker `logs` call with timestamps; its frames (stdout or stderr) become entries
`{time, instance, node, host, version, stream, line}`, `time` as the engine stamped it (RFC 3339, ns).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import urllib3
from docker.errors import DockerException

from deployer.engine_pool import UNREACHABLE, HostDown
from deployer.errors import DeployerError

log = logging.getLogger("deployer.logs")
READABLE = ("docker", "swarm")  # fleet instances log to their host's journal (fleet_templates)
STREAMS = {1: "stdout", 2: "stderr"}
HEADER = struct.Struct(">BxxxL")  # Docker's multiplexed stream: kind, 3 zero bytes, payload length
MAX_LINE = 16 * 1024  # characters of a line kept (Docker itself splits longer messages)
Entry = dict[str, Any]


class LogsUnsupported(DeployerError):
    """The app runs only on schedulers whose logs the deployer does not read (fleet)."""


@dataclass(frozen=True)
class Source:
    """One instance whose log can be read."""

    node: str  # the instance's name (totem.node): its container (docker) or service (swarm)
    instance: str  # what the lines are prefixed with: the node without "<app>-" (<version>-<seq>-<n>)
    version: str
    host: str  # where it runs: the Docker host (docker), the node's address (swarm)
    engine: str  # the engine its log is read through: its Docker host, or the swarm's manager
    scheduler: str
    running: bool


def sources(ctx, app: str, records: list[dict]) -> list[Source]:
    """Every instance of the app the schedulers of its deployments know, on the hosts that answer."""
    versions = {r["id"]: r["version"] for r in records}
    used = sorted({r["scheduler"] for r in records})
    readable = [name for name in used if name in READABLE]
    if used and not readable:
        raise LogsUnsupported(f"{app} runs on {', '.join(used)}: its instances log to their hosts' journal")
    found: list[Source] = []
    for name in readable:
        scheduler = ctx.scheduler(name)
        try:
            instances = scheduler.instances(app)
        except (HostDown, *UNREACHABLE) as exc:
            log.warning("%s: no %s instance listed: %s", app, name, exc)
            continue
        for instance in instances:
            engine = instance.host if name == "docker" else scheduler.host
            found.append(
                Source(
                    node=instance.node,
                    instance=instance.node.removeprefix(f"{app}-"),
                    version=versions.get(instance.deployment, ""),
                    host=instance.host,
                    engine=engine,
                    scheduler=name,
                    running=instance.running,
                )
            )
    return sorted(found, key=lambda s: (s.instance, s.host))


def timestamp(ns: int) -> str:
    """Docker's `since` spelling of a time: Unix seconds with nine decimals."""
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


def parse_time(text: str) -> int | None:
    """Unix nanoseconds of an engine's RFC 3339 stamp (`2024-05-01T12:00:00.123456789Z`), or None."""
    main, _, rest = text.partition(".")
    fraction = rest.rstrip("Z") if rest else ""
    if not rest:
        main = main.rstrip("Z")
    if not fraction.isdigit() and fraction:
        return None
    try:
        seconds = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
    return int(seconds) * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))


def read(
    ctx, source: Source, since_ns: int | None, tail: int | str, follow: bool, idle: float | None = None
) -> Generator[tuple[int, Entry], None, bool]:
    """(time in ns, entry) for each line of the source's log from `since_ns`, its last `tail` lines
    ("all": every one); with `follow`, new lines until the source ends or stays quiet `idle` seconds
    (a socket read timeout: the caller reads again from the last line's time, so no thread waits on
    a quiet container forever). Ends quietly when the instance or its host is gone; returns True
    when it ended because it was quiet."""
    try:
        api = ctx.engines.client(source.engine).api
        kind = "containers" if source.scheduler == "docker" else "services"
        params = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": int(follow), "tail": str(tail)}
        if since_ns:
            params["since"] = timestamp(since_ns)
        url = f"{api.base_url}/v{api.api_version}/{kind}/{source.node}/logs"
        response = api.get(url, params=params, stream=True, timeout=(api.timeout, idle or api.timeout))
    except (HostDown, DockerException, *UNREACHABLE, requests.RequestException) as exc:
        log.info("log of %s on %s not read: %s", source.node, source.engine, type(exc).__name__)
        return False
    with response:
        if response.status_code != 200:
            log.info("log of %s on %s: HTTP %s", source.node, source.engine, response.status_code)
            return False
        raw = "raw-stream" in response.headers.get("Content-Type", "")  # a tty container: no frames
        try:
            for stream, data in _frames(response, raw):
                for line in data.decode("utf-8", errors="replace").splitlines():
                    entry = _entry(source, stream, line)
                    if entry is not None:
                        yield entry
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            return True  # quiet past `idle`
        except (urllib3.exceptions.HTTPError, requests.RequestException, *UNREACHABLE, OSError, ValueError):
            return False  # the engine went away, or the answer broke off
    return False


def _frames(response: requests.Response, raw: bool) -> Iterator[tuple[str, bytes]]:
    body = response.raw
    if raw:
        while chunk := body.read(4096):
            yield "stdout", chunk
        return
    while True:
        header = body.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        kind, length = HEADER.unpack(header)
        data = body.read(length) if length else b""
        if length and not data:
            return
        yield STREAMS.get(kind, "stdout"), data


def _entry(source: Source, stream: str, text: str) -> tuple[int, Entry] | None:
    stamp, _, line = text.partition(" ")
    ns = parse_time(stamp)
    if ns is None:
        return None  # not a stamped line: a continuation Docker would have stamped
    return ns, {
        "time": stamp,
        "instance": source.instance,
        "node": source.node,
        "host": source.host,
        "version": source.version,
        "stream": stream,
        "line": line[:MAX_LINE],
    }
