"""The `totem.*` container labels (totem/contracts/labels.py) read into an Instance, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass

from totem.contracts.labels import APP, HEALTH, NODE, PORT, UPSTREAM, VERSION, missing
from yoda_discover.errors import DiscoverError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_PATH = re.compile(r"^/[\x21-\x7e]{0,1000}$")


class LabelError(DiscoverError, ValueError):
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


def instance_from_labels(container_id: str, labels: dict[str, str] | None) -> Instance:
    labels = labels or {}
    absent = missing(labels)
    if absent:
        raise LabelError(f"missing labels: {', '.join(absent)}")
    upstream, node = labels[UPSTREAM], labels[NODE]
    for label, value in ((UPSTREAM, upstream), (NODE, node)):
        if not _NAME.match(value):
            raise LabelError(f"{label}={value!r} is not a valid name")
    try:
        port = int(labels[PORT])
    except ValueError:
        raise LabelError(f"{PORT}={labels[PORT]!r} is not a number") from None
    if not 0 < port < 65536:
        raise LabelError(f"{PORT}={port} is out of range")
    health = labels.get(HEALTH) or None
    if health is not None and not _PATH.match(health):
        raise LabelError(f"{HEALTH}={health!r} must be an absolute path")
    return Instance(
        container_id=container_id,
        app=labels.get(APP, ""),
        version=labels.get(VERSION, ""),
        upstream=upstream,
        port=port,
        node=node,
        health=health,
    )
