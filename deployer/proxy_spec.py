"""The request's `proxy` section (the 2015 shape) and the wiring it asks for.

proxy:
  hosts:
    <id>: {hostname: a.localhost, aliases: [b.localhost],
           locations: {<loc>: {port: 8080, path: /, force-ssl: false,
                               allowed-acls: [public], denied-acls: []}}}
  upstreams:
    "8080": {mode: http, health: {uri: /health, timeout: 2s, interval: 5s}}
"""

from __future__ import annotations

import re
from typing import Any

from totem.contracts.yoda import HEALTH_INTERVAL, HEALTH_TIMEOUT, HEALTH_URI, MODE

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
HOSTNAME = r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
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
                    "hostname": {"type": "string", "pattern": HOSTNAME},
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


def logical_ports(proxy: dict) -> set[int]:
    return {
        int(loc.get("port", 8080))
        for host in (proxy.get("hosts") or {}).values()
        for loc in (host.get("locations") or {}).values()
    }


def wiring_for(app: str, proxy: dict) -> dict[str, Any]:
    """{hostname: {"aliases": [...], "locations": {<loc id>: {path, force-ssl, allowed, denied}}}}."""
    hosts: dict[str, Any] = {}
    for host in (proxy.get("hosts") or {}).values():
        entry = hosts.setdefault(host["hostname"].lower(), {"aliases": [], "locations": {}})
        entry["aliases"] = sorted(set(entry["aliases"]) | {a.lower() for a in host.get("aliases") or []})
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
