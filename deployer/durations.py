"""Durations as the config writes them: "10s", "500ms", "1m", "2h", "1d", "1w" or a bare number of seconds.

The units are the deploy request's (totem.contracts.deploy_request.DURATION_UNITS); the limit
(MAX_DURATION) is checked by the caller, which names the field.
"""

from __future__ import annotations

import re

from totem.contracts.deploy_request import DURATION_UNITS

_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)?$")


def seconds(value: str | int | float | None, default: float) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 10s, 500ms, 1m, 2h or 1d")
    return int(match.group(1)) * DURATION_UNITS[match.group(2) or "s"]
