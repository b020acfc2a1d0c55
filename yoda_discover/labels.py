"""The `totem.*` container labels (DESIGN.md §2) read into an Instance."""
from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_PATH = re.compile(r"^/[\x21-\x7e]{0,1000}$")


class LabelError(ValueError):
    """A container carries totem labels that cannot be used; the message says which."""


@dataclass(frozen=True)
class Instance:
    container_id: str
    app: str
    version: str
    upstream: str
    port: int
    node: str
    health: str | None  # HTTP path; None means a TCP connect check


def has_totem_labels(labels: dict[str, str] | None) -> bool:
    return bool(labels) and "totem.upstream" in labels


def instance_from_labels(container_id: str, labels: dict[str, str] | None) -> Instance:
    labels = labels or {}
    missing = [k for k in ("totem.upstream", "totem.port", "totem.node") if not labels.get(k)]
    if missing:
        raise LabelError(f"missing labels: {', '.join(missing)}")
    upstream, node = labels["totem.upstream"], labels["totem.node"]
    for label, value in (("totem.upstream", upstream), ("totem.node", node)):
        if not _NAME.match(value):
            raise LabelError(f"{label}={value!r} is not a valid name")
    try:
        port = int(labels["totem.port"])
    except ValueError:
        raise LabelError(f"totem.port={labels['totem.port']!r} is not a number") from None
    if not 0 < port < 65536:
        raise LabelError(f"totem.port={port} is out of range")
    health = labels.get("totem.health") or None
    if health is not None and not _PATH.match(health):
        raise LabelError(f"totem.health={health!r} must be an absolute path")
    return Instance(
        container_id=container_id,
        app=labels.get("totem.app", ""),
        version=labels.get("totem.version", ""),
        upstream=upstream,
        port=port,
        node=node,
        health=health,
    )
