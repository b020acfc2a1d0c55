"""The four delivery (DORA) figures from deployment records: pure functions, no I/O.

The definitions (docs/delivery-metrics.md is the long form):

- A *change* is a deployment record that is not a rollback (no ROLLBACK_REQUESTED event: a rollback
  redeploys an earlier change). It *finishes* at its DEPLOYMENT_PROMOTED or DEPLOYMENT_FAILED event;
  the window [end - window, end) holds the changes that finished inside it. Changes still running
  are not counted.
- *Deployment frequency*: changes promoted in the window per day (window seconds / 86400).
- *Lead time for changes*: for each promoted change, promotion time minus the commit's time:
  `meta-info.commit-time` (sent by the orchestrator), else the earliest time the deployer knew
  the commit (the first record of that commit, or of that version without git); median and p90
  (nearest rank).
- *Change failure rate*: failed changes / changes. A change fails when it ends FAILED (health
  gate, deadline, abort) or, promoted, is rolled back (a later rollback's `replacing` names it).
- *Time to restore*: from a failure (the DEPLOYMENT_FAILED event, or the rollback's request) to
  the app's next promotion of any deployment, the rollback's included; median over the window's
  failed changes that were restored (the others are counted as `unrestored`).

"overall" pools the apps: sums of counts, medians over every app's samples together.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deployer.states import Event
from totem import commit_time
from totem.contracts.deploy_request import duration_seconds
from totem.errors import TotemError

DAY = 86400.0
DEFAULT_WINDOW = "30d"
MIN_WINDOW = 3600.0  # an hour: shorter windows say nothing per day
MAX_WINDOW = 366 * DAY
RECORD_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class WindowError(TotemError, ValueError):
    """A window that is not a duration between MIN_WINDOW and MAX_WINDOW."""


@dataclass(frozen=True)
class Window:
    text: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def holds(self, when: datetime | None) -> bool:
        return when is not None and self.start <= when < self.end

    def days(self) -> list[str]:
        """The UTC dates the window touches, oldest first."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def shown(self) -> dict[str, Any]:
        return {"text": self.text, "seconds": self.seconds, "start": _spell(self.start), "end": _spell(self.end)}


def window(text: str, end: datetime) -> Window:
    """The window `text` ("30d", "12h", "2w"; a bare number is seconds) that ends at `end`."""
    seconds = duration_seconds(text) if len(text) <= 20 else None
    if seconds is None or not MIN_WINDOW <= seconds <= MAX_WINDOW:
        raise WindowError(f"window must be a duration from 1h to 366d (30d, 12h, 2w); got {text[:40]!r}")
    return Window(text.strip(), end - timedelta(seconds=seconds), end)


def record_time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(text, RECORD_TIME).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _spell(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Deployment:
    """What the figures need of one record."""

    id: str
    commit: str  # the commit (or "version:<v>" without git): what "the same change" means
    created: datetime
    committed: datetime | None  # meta-info.commit-time
    promoted: datetime | None
    failed: datetime | None
    rollback: datetime | None  # it is a rollback, requested then
    replacing: str | None  # the rollback's: the deployment that was live


def read(record: dict[str, Any]) -> Deployment:
    meta = (record.get("request") or {}).get("meta-info") or {}
    commit = (meta.get("git") or {}).get("commit")
    first: dict[str, dict] = {}
    for event in record.get("events") or []:
        first.setdefault(event.get("type"), event)
    rollback = first.get(Event.ROLLBACK_REQUESTED)
    return Deployment(
        id=record["id"],
        commit=commit if isinstance(commit, str) and commit else f"version:{record.get('version')}",
        created=record_time(record.get("created")) or datetime.fromtimestamp(0, UTC),
        committed=commit_time.parse(meta.get("commit-time")),
        promoted=record_time((first.get(Event.DEPLOYMENT_PROMOTED) or {}).get("date")),
        failed=record_time((first.get(Event.DEPLOYMENT_FAILED) or {}).get("date")),
        rollback=record_time(rollback.get("date")) if rollback else None,
        replacing=((rollback or {}).get("details") or {}).get("replacing"),
    )


@dataclass(frozen=True)
class Change:
    finished: datetime
    promoted: bool
    failed_at: datetime | None  # when it became a failure; None: it did not fail
    restored_at: datetime | None
    lead_time: float | None  # seconds; promoted changes only


def changes(records: Iterable[dict[str, Any]]) -> list[Change]:
    """One app's changes (every record of it, any order), as the figures count them."""
    deployments = [read(r) for r in records]
    known: dict[str, datetime] = {}  # each commit's time: its earliest commit-time, else its first record
    for d in deployments:
        if d.committed is not None:
            known[d.commit] = min(d.committed, known.get(d.commit, d.committed))
    first_seen: dict[str, datetime] = {}
    for d in deployments:
        first_seen[d.commit] = min(d.created, first_seen.get(d.commit, d.created))
    known = {**first_seen, **known}
    rolled_back = {d.replacing: d.rollback for d in deployments if d.rollback and d.replacing}
    promotions = sorted(d.promoted for d in deployments if d.promoted)
    found = []
    for d in deployments:
        finished = d.promoted or d.failed
        if d.rollback is not None or finished is None:
            continue
        failed_at = d.failed if d.promoted is None else rolled_back.get(d.id)
        restored = next((p for p in promotions if failed_at and p > failed_at), None)
        lead = max(0.0, (d.promoted - known[d.commit]).total_seconds()) if d.promoted else None
        found.append(Change(finished, d.promoted is not None, failed_at, restored, lead))
    return sorted(found, key=lambda c: c.finished)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def median(values: list[float]) -> float | None:
    return _round(statistics.median(values)) if values else None


def p90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile: the smallest value at least 90 % of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return _round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def figures(found: list[Change], win: Window) -> dict[str, Any]:
    """The figures of the changes that finished in `win`, with a per-day series (UTC dates)."""
    inside = [c for c in found if win.holds(c.finished)]
    failed = [c for c in inside if c.failed_at is not None]
    promoted = [c for c in inside if c.promoted]
    leads = [c.lead_time for c in promoted if c.lead_time is not None]
    restores = [(c.restored_at - c.failed_at).total_seconds() for c in failed if c.restored_at and c.failed_at]
    series = []
    for day in win.days():
        today = [c for c in inside if c.finished.date().isoformat() == day]
        series.append(
            {
                "date": day,
                "deployments": len(today),
                "promoted": sum(c.promoted for c in today),
                "failures": sum(c.failed_at is not None for c in today),
                "lead_time_median_seconds": median([c.lead_time for c in today if c.lead_time is not None]),
            }
        )
    return {
        "deployments": len(inside),
        "promoted": len(promoted),
        "failures": len(failed),
        "deployment_frequency_per_day": round(len(promoted) / (win.seconds / DAY), 4),
        "lead_time_seconds": {"median": median(leads), "p90": p90(leads), "samples": len(leads)},
        "change_failure_rate": round(len(failed) / len(inside), 4) if inside else None,
        "time_to_restore_seconds": {
            "median": median(restores),
            "restored": len(restores),
            "unrestored": len(failed) - len(restores),
        },
        "series": series,
    }


def report(histories: dict[str, list[dict[str, Any]]], win: Window) -> dict[str, Any]:
    """{window, apps: {app: figures}, overall: figures of every app's changes together}."""
    by_app = {app: changes(records) for app, records in sorted(histories.items())}
    return {
        "window": win.shown(),
        "apps": {app: figures(found, win) for app, found in by_app.items()},
        "overall": figures([c for found in by_app.values() for c in found], win),
    }
