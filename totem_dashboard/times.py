"""Timestamps from the services (ISO strings or epoch seconds) → epoch seconds and readable text."""

from __future__ import annotations

from datetime import UTC, datetime


def epoch(value) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def when(value) -> str:
    """`2026-11-26 05:40:19 UTC`, or an empty string."""
    seconds = epoch(value)
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """`250 ms`, `12.3 s`, `2 min 05 s`, `3 h 20 min`, `2 d 04 h`: the unit that fits, two at most
    (a phase of a deployment as well as a lead time of days); "—" when there is nothing to measure."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 90 * 60:
        return f"{whole // 60} min {whole % 60:02d} s"
    if whole < 48 * 3600:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    return f"{whole // 86400} d {whole % 86400 // 3600:02d} h"
