"""Service registrations: where each Totem process announces its Prometheus `/metrics` in etcd.

    <prefix>/<service>/<instance> = {"service", "instance", "metrics": "host:port", "pid", "host"}

written under a lease (TTL `TOTEM_SERVICES_TTL`, refreshed) by each API (once per gunicorn master),
each Celery worker and yoda-discover; the stack's `prometheus_targets` writer turns them into a
Prometheus file_sd file (totem_stack/prometheus.py). `<prefix>` is `TOTEM_SERVICES_PREFIX`, by
default `totem-services` beside `YODA_BASE` (`/yoda` → `/totem-services`, a test's `/test-x/yoda` →
`/test-x/totem-services`), so a test's processes stay under its own prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

SERVICES = "totem-services"
FIELDS = ("service", "instance", "metrics", "pid", "host")


def default_prefix(yoda_base: str) -> str:
    """`totem-services` beside the yoda base: `/yoda` → `/totem-services`, `/a/yoda` → `/a/totem-services`."""
    parent = "/" + yoda_base.strip("/")
    parent = parent.rsplit("/", 1)[0]
    return f"{parent}/{SERVICES}"


def services_prefix(prefix: str) -> str:
    return "/" + prefix.strip("/") + "/"


def service_key(prefix: str, service: str, instance: str) -> str:
    return f"{services_prefix(prefix)}{service}/{instance}"


def parse_service_key(prefix: str, key: str) -> tuple[str, str] | None:
    """(service, instance) of a `<prefix>/<service>/<instance>` key, else None."""
    start = services_prefix(prefix)
    if not key.startswith(start):
        return None
    parts = key[len(start) :].split("/")
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    return None


def registration(service: str, instance: str, metrics: str, pid: int, host: str) -> str:
    """The value of a registration key: `metrics` is the `host:port` Prometheus scrapes."""
    return json.dumps(
        {"service": service, "instance": instance, "metrics": metrics, "pid": pid, "host": host}, sort_keys=True
    )


def parse_registration(value: str) -> Mapping[str, object] | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and isinstance(parsed.get("metrics"), str) else None
