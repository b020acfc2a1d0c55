"""The proxy wiring read from etcd: parsed, validated, and kept partial-safe.

`parse(keys)` takes the keys under YODA_BASE (relative, e.g. "hosts/a/aliases/1")
and returns a `Wiring`. An invalid or incomplete entity never poisons the rest:
it is reported in `Wiring.errors` and, when the previous good wiring had it,
that previous version is kept instead. Keys yoda-proxy does not read (2015 keys
such as `global/hostname`) are listed in `Wiring.ignored`, never errors.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal, overload

from totem.contracts.yoda import MAX_PAUSE, MAX_RETRY_AFTER
from yoda_proxy.errors import ProxyError
from yoda_proxy.resolve import lookup

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")  # rendered into HAProxy names and files
SEGMENT = re.compile(r"^[!-.0-~]{1,255}$")  # any printable key segment (no "/", no space): never rendered
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
PATH = re.compile(r"^/[A-Za-z0-9._~!$'()*+,=:@%/-]*$")
DURATION = re.compile(r"^(\d+)(ms|s|m)?$")
SECONDS = re.compile(r"^\d{1,6}(\.\d{1,3})?$")
TRUE = {"1", "true", "yes", "on"}
MODES = ("http", "tcp")
DEFAULT_ACL = "public"
PUBLIC_CIDRS = ("0.0.0.0/0", "::/0")
GLOBAL_BLACK_LIST = "global-black-list"  # as in 2015: sources in it are refused on every frontend
FRAME_OPTIONS = {"deny": "DENY", "sameorigin": "SAMEORIGIN", "off": "off"}
DEFAULT_FRAME_OPTIONS = "DENY"


class Invalid(ProxyError, ValueError):
    """One entity of the wiring is unusable; the message says why."""


@dataclass(frozen=True)
class Location:
    name: str
    path: str
    upstream: str
    force_ssl: bool = False
    allowed: tuple[str, ...] = (DEFAULT_ACL,)
    denied: tuple[str, ...] = ()
    canary: str | None = None  # a second upstream that gets `canary_percent` of the requests
    canary_percent: int = 0


@dataclass(frozen=True)
class Host:
    name: str
    aliases: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    frame_options: str = DEFAULT_FRAME_OPTIONS  # X-Frame-Options added to responses without one; "off": none
    alias_ids: tuple[tuple[str, str], ...] = ()  # (etcd id, alias): so a clash names the key that lost
    maintenance: int | None = None  # Retry-After seconds of the 503 maintenance page; None: serving
    pause_ms: int = 0  # a paused host's requests are held this long at most; 0: not paused


@dataclass(frozen=True)
class Health:
    uri: str | None = None
    timeout_ms: int = 2000
    interval_ms: int = 2000


Endpoint = tuple[str, str, int]  # (node, ip, port)


@dataclass(frozen=True)
class Upstream:
    name: str
    mode: str = "http"
    health: Health = Health()
    endpoints: tuple[Endpoint, ...] = ()
    checked: bool = False  # etcd declares its health check (health/*): its endpoints get a grace


@dataclass(frozen=True)
class Listener:
    name: str  # a HAProxy-safe identifier (listener_id)
    address: str | None  # None: the proxy's own address
    port: int
    upstream: str
    allowed: tuple[str, ...] = ()  # ACL names; empty: everyone (2015 TCP listeners had no default)
    denied: tuple[str, ...] = ()


@dataclass
class Wiring:
    hosts: dict[str, Host] = field(default_factory=dict)
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    listeners: dict[str, Listener] = field(default_factory=dict)
    acls: dict[str, tuple[str, ...]] = field(default_factory=dict)
    certs: dict[str, str] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    revision: str | None = None
    errors: list[str] = field(default_factory=list)  # "<entity key>: <why>"
    ignored: dict[str, str] = field(default_factory=dict)  # key -> why yoda-proxy does not read it
    raw_hosts: dict[str, Host] = field(default_factory=dict)  # by etcd key (before lowercasing)
    clean: set[str] = field(default_factory=set)  # entities ("hosts/<id>") built without errors

    def skipped(self) -> dict[str, str]:
        """{entity key: why}: what this wiring left out, or kept in its previous version."""
        out: dict[str, str] = {}
        for error in self.errors:
            ref, _, why = error.partition(": ")
            out[ref] = f"{out[ref]}; {why}" if ref in out else why
        return out

    def counts(self) -> dict[str, int]:
        return {
            "hosts": len(self.hosts),
            "locations": sum(len(h.locations) for h in self.hosts.values()),
            "upstreams": len(self.upstreams),
            "endpoints": sum(len(u.endpoints) for u in self.upstreams.values()),
            "listeners": len(self.listeners),
            "certs": len(self.certs),
        }


# -- small value parsers --------------------------------------------------------
def name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise Invalid(f"{what} {value!r} must match {NAME.pattern}")
    return value


def segment(value: str, what: str) -> str:
    if not SEGMENT.match(value):
        raise Invalid(f"{what} {value!r} must be printable, without spaces or '/', at most 255 characters")
    return value


def listener_id(key: str) -> str:
    """A HAProxy identifier for the listener at global/listeners/<key>: native names as they are;
    2015 "tcp/<n>" as "_tcp.<n>" (native names never start with "_"), hashed if <n> is not a NAME."""
    if NAME.match(key):
        return key
    inner = key.split("/", 1)[-1]
    if NAME.match(inner):
        return f"_tcp.{inner}"
    clean = re.sub(r"[^A-Za-z0-9_.-]", "-", inner)[:64]
    return f"_tcp.{clean}.{hashlib.sha256(inner.encode()).hexdigest()[:8]}"


def frame_options(value: str) -> str:
    option = FRAME_OPTIONS.get(value.strip().lower())
    if option is None:
        raise Invalid(f"x-frame-options {value!r} must be DENY, SAMEORIGIN or off")
    return option


def retry_after(value: str) -> int:
    """hosts/<host>/maintenance: whole seconds, the Retry-After of the maintenance page."""
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_RETRY_AFTER:
        raise Invalid(f"maintenance {value!r} must be Retry-After seconds from 1 to {MAX_RETRY_AFTER}")
    return int(text)


def pause_ms(value: str) -> int:
    """hosts/<host>/pause: seconds (decimals allowed) a request is held at most, as milliseconds."""
    if not SECONDS.match(value.strip()) or not 0 < float(value) <= MAX_PAUSE:
        raise Invalid(f"pause {value!r} must be seconds above 0 and at most {MAX_PAUSE}")
    return max(1, round(float(value) * 1000))


def hostname(value: str) -> str:
    host = value.strip().lower().rstrip(".")
    if not HOSTNAME.match(host):
        raise Invalid(f"{value!r} is not a valid host name")
    return host


def duration_ms(value: str, what: str) -> int:
    match = DURATION.match(value.strip())
    if not match:
        raise Invalid(f"{what} {value!r} must look like 2s, 500ms or 1m")
    number, unit = int(match.group(1)), match.group(2) or "s"
    ms = number * {"ms": 1, "s": 1000, "m": 60000}[unit]
    if not 100 <= ms <= 600000:
        raise Invalid(f"{what} {value!r} must be between 100ms and 10m")
    return ms


@overload
def address(
    value: str, what: str, allow_empty_host: Literal[False] = False, resolve: bool = False
) -> tuple[str, int]: ...
@overload
def address(value: str, what: str, allow_empty_host: bool, resolve: bool = False) -> tuple[str | None, int]: ...
def address(value: str, what: str, allow_empty_host: bool = False, resolve: bool = False) -> tuple[str | None, int]:
    """The IP (None only when the host is empty and `allow_empty_host`) and port in `value`.
    A bind (`allow_empty_host`) also takes "*" for every IPv4 address, as HAProxy (and 2015) did;
    with `resolve`, a host name is looked up (resolve.py)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise Invalid(f"{what} {value!r} must be host:port")
    host = host.strip("[]")
    if not host and allow_empty_host:
        return None, int(port)
    if host == "*" and allow_empty_host:
        return "0.0.0.0", int(port)
    if host == "localhost":
        host = "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host)), int(port)
    except ValueError:
        pass
    if not resolve:
        raise Invalid(f"{what} {value!r}: host must be an IP address")
    if not HOSTNAME.match(host.lower()):
        raise Invalid(f"{what} {value!r}: host must be an IP address or a host name")
    ip = lookup(host.lower())
    if ip is None:
        raise Invalid(f"{what} {value!r}: host name {host} does not resolve")
    return ip, int(port)


def cidrs(value: str, what: str) -> tuple[str, ...]:
    """An empty value is an empty list (matches nothing): 2015 seeded global-black-list that way."""
    parts = [p for p in re.split(r"[\s,]+", value.strip()) if p]
    try:
        return tuple(str(ipaddress.ip_network(p, strict=False)) for p in parts)
    except ValueError as exc:
        raise Invalid(f"{what}: {exc}") from None


def acl_list(values: dict[str, str], what: str) -> tuple[str, ...]:
    return tuple(sorted({name(v.strip(), what) for v in values.values() if v.strip()}))
