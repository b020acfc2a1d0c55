"""Durations as the config writes them: "10s", "500ms", "1m", "2h", "1d", "1w" or a bare number of seconds.

Read by the deploy request's own `duration_seconds` (totem.contracts.deploy_request); the limit
(MAX_DURATION) is checked by the caller, which names the field.
"""

from __future__ import annotations

from totem.contracts.deploy_request import duration_seconds


def seconds(value: str | int | float | None, default: float) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        return float(value)
    duration = duration_seconds(value)
    if duration is None:
        raise ValueError(f"{value!r} is not a duration like 10s, 500ms, 1m, 2h or 1d")
    return duration
