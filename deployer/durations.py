"""Durations as the config writes them: "10s", "500ms", "1m", "2h" or a bare number of seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(\d+)(ms|s|m|h)?$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(value: str | int | float | None, default: float) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 10s, 500ms or 1m")
    return int(match.group(1)) * _UNIT[match.group(2) or "s"]
