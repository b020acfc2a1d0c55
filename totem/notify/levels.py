"""Notice levels by name, most severe first: a channel at level `success` receives failed, warn and success.

Channels name their level (`level: success`); the numbers 1–5 of older configurations still work and
are read by `parse_level` alone. The number is also the `level` field of webhook bodies.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Level(IntEnum):
    FAILED = 1
    WARN = 2
    SUCCESS = 3
    STARTED = 4
    PENDING = 5

    @property
    def label(self) -> str:
        """The name used in configuration and in notices: `failed`, `warn`, …"""
        return self.name.lower()


DEFAULT_LEVEL = Level.SUCCESS
LEVEL_NAMES = tuple(level.label for level in Level)

# A channel's `level` in totem.yml and in deploy requests: a name, or a legacy number.
LEVEL_SCHEMA: dict[str, Any] = {"enum": [*LEVEL_NAMES, *(int(level) for level in Level)]}


def parse_level(value: Any) -> Level:
    """`success` (any case) or 3 → Level.SUCCESS; ValueError for anything else."""
    if isinstance(value, Level):
        return value
    if isinstance(value, str) and value.strip().upper() in Level.__members__:
        return Level[value.strip().upper()]
    if isinstance(value, int) and not isinstance(value, bool) and Level.FAILED <= value <= Level.PENDING:
        return Level(value)
    raise ValueError(f"level must be one of {', '.join(LEVEL_NAMES)} (got {value!r})")


def admits(channel_level: Any, level: Level) -> bool:
    """Whether a channel configured at `channel_level` (default success) receives a notice of `level`."""
    return level <= parse_level(DEFAULT_LEVEL if channel_level is None else channel_level)
