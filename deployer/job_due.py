"""When a scheduled job's next run is due: pure time arithmetic over totem/oncalendar.py, no I/O.

The cursor is the scheduled time of the job's newest recorded run (run, skipped or lost), or the
time it was promoted: a new job never runs at once, its first run is the first scheduled time after
promotion. Every due time up to now is folded into one run at the latest of them, so a beat that
comes late, or a deployer that was down, never runs a job twice in a row. Runs missed by more than
LATE are handled by the missed-run policy (TOTEM_DEPLOYER_MISSED_RUNS):

- `once` (default, systemd's `Persistent=true`, as the fleet timer template has it): one run now,
  for the latest missed time, noted as catching up;
- `skip` (systemd's default `Persistent=false`): nothing runs; a skipped run is recorded for the
  latest missed time, and the next run is the next scheduled time after now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from totem.oncalendar import CalendarEvent

LATE = timedelta(seconds=60)  # a run this late was missed (the beat runs every few seconds)
ONCE, SKIP = "once", "skip"


@dataclass(frozen=True)
class Due:
    scheduled: datetime  # the scheduled time the run is for (the latest one due)
    missed_from: datetime | None = None  # the first time missed, when runs were missed by more than LATE
    skip: str | None = None  # why this time is recorded as skipped instead of run


def latest_until(event: CalendarEvent, first: datetime, now: datetime) -> datetime:
    """The last scheduled time at or before `now`, given `first`, a scheduled time at or before it.
    Looks back from `now` over a window that doubles until it holds one, so a long outage costs a
    few steps, not one per missed time."""
    window = timedelta(seconds=60)
    found = first
    while True:
        start = now - window
        if start <= first:
            break
        probe = event.next_after(start - timedelta(seconds=1))
        if probe is not None and probe <= now:
            found = probe
            break
        window *= 2
    while True:
        later = event.next_after(found)
        if later is None or later > now:
            return found
        found = later


def due(event: CalendarEvent, cursor: datetime, now: datetime, policy: str = ONCE) -> Due | None:
    """The run due at `now` after `cursor` (the last time handled), or None while none is due."""
    first = event.next_after(cursor)
    if first is None or first > now:
        return None
    latest = latest_until(event, first, now)
    missed = first if now - first > LATE else None
    if policy == SKIP and now - latest > LATE:
        return Due(latest, missed, "missed while no deployer ran (TOTEM_DEPLOYER_MISSED_RUNS=skip)")
    return Due(latest, missed)
