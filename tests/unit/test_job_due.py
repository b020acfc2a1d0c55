"""deployer/job_due.py: when a scheduled job's next run is due, and what missed runs become.

2015: only fleet ran scheduled jobs, through systemd timers rendered with `Persistent=true`
(fleet_templates/default-app.timer.j2): a timer that missed its time while the machine was down
fires once when it is back, never once per missed time, and a new timer waits for its first time.
The deployer's runs follow the same rules by default (`once`); `skip` is systemd's own default.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deployer.job_due import LATE, ONCE, SKIP, Due, due, latest_until
from totem.oncalendar import parse

EVERY_MINUTE = parse("*:0/1")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_nothing_is_due_before_the_first_time_after_the_cursor():
    """A job promoted at 10:00:30 first runs at 10:01:00, not at once (a new systemd timer waits too)."""
    assert due(EVERY_MINUTE, at("2026-01-01 10:00:30"), at("2026-01-01 10:00:59")) is None
    assert due(EVERY_MINUTE, at("2026-01-01 10:00:30"), at("2026-01-01 10:01:00")) == Due(at("2026-01-01 10:01:00"))


def test_a_late_beat_runs_the_time_it_is_late_for():
    assert due(EVERY_MINUTE, at("2026-01-01 10:01:00"), at("2026-01-01 10:02:04")) == Due(at("2026-01-01 10:02:00"))


def test_the_time_just_handled_is_not_due_again():
    assert due(EVERY_MINUTE, at("2026-01-01 10:02:00"), at("2026-01-01 10:02:04")) is None


def test_missed_runs_become_one_run_for_the_latest_time_by_default():
    """Down from 10:01 to 10:07:10: one run, for 10:07, noted as catching up from 10:02 (Persistent=true)."""
    found = due(EVERY_MINUTE, at("2026-01-01 10:01:00"), at("2026-01-01 10:07:10"), ONCE)
    assert found == Due(at("2026-01-01 10:07:00"), missed_from=at("2026-01-01 10:02:00"))


def test_missed_runs_of_a_daily_job_run_once_on_recovery():
    """A nightly job whose 02:00 passed while the deployer was down runs once when it is back."""
    daily = parse("*-*-* 02:00:00")
    found = due(daily, at("2026-01-01 02:00:00"), at("2026-01-04 07:30:00"), ONCE)
    assert found == Due(at("2026-01-04 02:00:00"), missed_from=at("2026-01-02 02:00:00"))


def test_skip_records_the_missed_time_as_skipped_and_runs_nothing():
    """Persistent=false: the missed 02:00 is skipped; the next run is the next 02:00."""
    daily = parse("*-*-* 02:00:00")
    found = due(daily, at("2026-01-01 02:00:00"), at("2026-01-04 07:30:00"), SKIP)
    assert found is not None and found.scheduled == at("2026-01-04 02:00:00") and found.skip
    assert due(daily, found.scheduled, at("2026-01-04 07:30:05"), SKIP) is None


def test_skip_still_runs_a_time_that_is_only_a_little_late():
    found = due(EVERY_MINUTE, at("2026-01-01 10:01:00"), at("2026-01-01 10:02:00") + LATE - timedelta(seconds=10), SKIP)
    assert found == Due(at("2026-01-01 10:02:00"))


def test_latest_until_over_a_long_outage_of_a_dense_schedule():
    every_second = parse("*:*:*")
    start, end = at("2026-01-01 00:00:01"), at("2026-03-01 12:00:00")
    assert latest_until(every_second, start, end) == end
    assert latest_until(EVERY_MINUTE, at("2026-01-01 00:01:00"), end + timedelta(seconds=59)) == end
