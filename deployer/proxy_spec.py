"""The request's `proxy` section (the 2015 shape) and the wiring it asks for.

proxy:
  hosts:
    <id>: {hostname: "a.localhost, c.localhost", aliases: [b.localhost], enabled: true,
           x-frame-options: DENY,
           locations: {<loc>: {port: 8080, path: /, force-ssl: false,
                               allowed-acls: [public], denied-acls: []}}}
  upstreams:
    "8080": {mode: http, health: {uri: /health, timeout: 2s, interval: 5s}}

As in 2015, `hostname` may list several names, comma-separated: the first is the host, the others
its aliases. A host with `enabled: false` is not wired.
"""

from __future__ import annotations

import re
from typing import Any

from totem.contracts.yoda import HEALTH_INTERVAL, HEALTH_TIMEOUT, HEALTH_URI, MODE

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
HOSTNAME = r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
_HOSTNAME = re.compile(HOSTNAME[:-1] + r"\Z")  # "$" would let a final newline through
HOSTNAMES = r"^[A-Za-z0-9., \t-]*$(?!\n)"  # one or more, split by `hostnames` and each checked there
X_FRAME_DEFAULT = "DENY"
X_FRAME_OFF = "off"
PATH = r"^/[A-Za-z0-9._~!$'()*+,=:@%/-]*$"
DURATION = {"type": "string", "pattern": r"^\d{1,9}(ms|s|m)?$", "description": "at most a day (the deployer checks)"}
_ACLS = {"type": "array", "items": {"type": "string", "pattern": NAME}}

PROXY_SCHEMA = {
    "type": "object",
    "properties": {
        "hosts": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["hostname"],
                "properties": {
                    "hostname": {
                        "type": "string",
                        "pattern": HOSTNAMES,
                        "maxLength": 4096,
                        "description": "a host name, or several separated by commas: the first is the host, "
                        "the others its aliases",
                    },
                    "enabled": {"type": "boolean", "default": True, "description": "false: not wired"},
                    "x-frame-options": {
                        "enum": [X_FRAME_DEFAULT, "SAMEORIGIN", X_FRAME_OFF, False],
                        "default": X_FRAME_DEFAULT,
                        "description": "the X-Frame-Options header the proxy sends for the host; off (or false, "
                        "YAML's unquoted off): none",
                    },
                    "aliases": {"type": "array", "items": {"type": "string", "pattern": HOSTNAME}},
                    "locations": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                                "path": {"type": "string", "pattern": PATH},
                                "force-ssl": {"type": "boolean"},
                                "allowed-acls": _ACLS,
                                "denied-acls": _ACLS,
                            },
                        },
                    },
                },
            },
        },
        "upstreams": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "mode": {"enum": ["http", "tcp"]},
                    "health": {
                        "type": "object",
                        "properties": {
                            "uri": {"type": "string", "pattern": PATH},
                            "timeout": DURATION,
                            "interval": DURATION,
                        },
                    },
                },
            },
        },
    },
}


def location_id(app: str, location: str) -> str:
    """`<app>_<location>`: app names hold no "_", so the first "_" always ends the app name."""
    return f"{app}_{re.sub(r'[^A-Za-z0-9_.-]', '-', location).lstrip('_') or 'root'}"


def owner_of(location_key: str) -> str:
    return location_key.split("_", 1)[0]


def enabled_hosts(proxy: dict) -> dict[str, dict]:
    """The hosts to wire, by id: those without `enabled: false`."""
    return {i: h for i, h in sorted((proxy.get("hosts") or {}).items()) if h.get("enabled", True) is not False}


def hostnames(value: str) -> list[str]:
    """ "a.example, B.example," → ["a.example", "b.example"]: blanks stripped, empty parts dropped, lower case."""
    return [part.strip().lower() for part in value.split(",") if part.strip()]


def x_frame_options(host: dict) -> str:
    value = host.get("x-frame-options", X_FRAME_DEFAULT)
    return X_FRAME_OFF if value is False else str(value)


def problems(proxy: dict) -> list[dict[str, str]]:
    """What the schema cannot say about the hosts: each listed name a valid host name, and one
    X-Frame-Options per host name (as `deploy_request.problems`: {"path", "message"})."""
    found: list[dict[str, str]] = []
    frames: dict[str, tuple[str, str]] = {}  # host name → (host id, x-frame-options)
    for host_id, host in sorted((proxy.get("hosts") or {}).items()):
        path = f"body.proxy.hosts.{host_id}.hostname"
        names = hostnames(host["hostname"])
        bad = [name for name in names if not _HOSTNAME.match(name)]
        if not names or bad:
            why = f"{bad[0]!r} is not a valid host name" if bad else "names no host"
            found.append({"path": path, "message": why})
        if host.get("enabled", True) is False or not names:
            continue
        other = frames.setdefault(names[0], (host_id, x_frame_options(host)))
        if other[1] != x_frame_options(host):
            found.append(
                {
                    "path": f"body.proxy.hosts.{host_id}.x-frame-options",
                    "message": f"{names[0]} is also hosts.{other[0]}, with x-frame-options {other[1]}",
                }
            )
    return found


def logical_ports(proxy: dict) -> set[int]:
    return {
        int(loc.get("port", 8080))
        for host in enabled_hosts(proxy).values()
        for loc in (host.get("locations") or {}).values()
    }


def wiring_for(app: str, proxy: dict) -> dict[str, Any]:
    """{hostname: {"aliases": [...], "locations": {<loc id>: {path, force-ssl, allowed, denied}}}, and
    "x-frame-options" unless DENY} for the enabled hosts (`problems` found none)."""
    hosts: dict[str, Any] = {}
    for host in enabled_hosts(proxy).values():
        first, *more = hostnames(host["hostname"])
        entry = hosts.setdefault(first, {"aliases": [], "locations": {}})
        if x_frame_options(host) != X_FRAME_DEFAULT:  # absent: the default (so are records planned before it)
            entry["x-frame-options"] = x_frame_options(host)
        named = {a.lower() for a in host.get("aliases") or []} | set(more)
        entry["aliases"] = sorted((set(entry["aliases"]) | named) - {first})
        for name, loc in sorted((host.get("locations") or {}).items()):
            entry["locations"][location_id(app, name)] = {
                "path": loc.get("path", "/"),
                "force-ssl": bool(loc.get("force-ssl", False)),
                "allowed": sorted(loc.get("allowed-acls") or []),
                "denied": sorted(loc.get("denied-acls") or []),
            }
    return hosts


def upstream_config(proxy: dict, port: int, check_path: str) -> dict[str, str]:
    """The upstream keys (relative to upstreams/<name>/) for the app's logical port."""
    conf = (proxy.get("upstreams") or {}).get(str(port)) or {}
    health = conf.get("health") or {}
    return {
        MODE: conf.get("mode", "http"),
        HEALTH_URI: health.get("uri", check_path),
        HEALTH_TIMEOUT: health.get("timeout", "2s"),
        HEALTH_INTERVAL: health.get("interval", "2s"),
    }
