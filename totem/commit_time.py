"""A commit's time as deploy requests carry it (`meta-info.commit-time`, docs/delivery-metrics.md):
ISO 8601 with a UTC offset or `Z`, as GitHub sends `head_commit.timestamp` ("2026-03-01T10:20:30+01:00"),
kept as UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime

# what the deploy request schema accepts; `parse` then refuses dates that do not exist (month 13)
PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
MAX_LENGTH = 40


def parse(text: object) -> datetime | None:
    """The aware UTC time `text` names; None when it is not a time with an offset."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def normalise(text: object) -> str | None:
    """`text` as UTC (`2026-03-01T09:20:30Z`), None when it is not a time with an offset."""
    when = parse(text)
    return None if when is None else spell(when)


def spell(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_unix(seconds: float) -> str:
    return spell(datetime.fromtimestamp(seconds, UTC))
