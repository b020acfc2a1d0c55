"""The `notifications` section, as totem.yml and deploy requests carry it (JSON Schema)."""

from __future__ import annotations

from typing import Any

from totem.notify.levels import LEVEL_SCHEMA
from totem.notify.registry import CHANNELS

CHANNEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "level": LEVEL_SCHEMA,
        "url": {"type": "string"},
        "channel": {"type": "string"},
        "context": {"type": "string"},
    },
}
NOTIFICATIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {name: CHANNEL_SCHEMA for name in CHANNELS},
    "additionalProperties": False,
}
