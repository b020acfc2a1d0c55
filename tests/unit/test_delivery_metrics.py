"""The delivery (DORA) figures of deployer/delivery.py on hand-written histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deployer import delivery
from orchestrator.deploy.request import _commit_time
from orchestrator.hooks.github import _push
from totem import commit_time

END = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(hours_before_end: float) -> str:
    return (END - timedelta(hours=hours_before_end)).strftime(delivery.RECORD_TIME)[:-4] + "000Z"


def record(
    seq: int,
    version: str,
    created: float,
    *,
    promoted=None,
    failed=None,
    commit=None,
    commit_time=None,
    rollback=None,
    replacing=None,
) -> dict:
    events = [{"type": "NEW_DEPLOYMENT", "date": at(created), "details": {}}]
    if rollback is not None:
        events.append({"type": "ROLLBACK_REQUESTED", "date": at(rollback), "details": {"replacing": replacing}})
    if promoted is not None:
        events.append({"type": "DEPLOYMENT_PROMOTED", "date": at(promoted), "details": {}})
    if failed is not None:
        events.append({"type": "DEPLOYMENT_FAILED", "date": at(failed), "details": {}})
    meta: dict = {"git": {"commit": commit}} if commit else {}
    if commit_time is not None:
        meta["commit-time"] = commit_time
    return {
        "id": f"web-{version}-{seq}",
        "sequence": seq,
        "version": version,
        "created": at(created),
        "request": {"meta-info": meta},
        "events": events,
    }


def history() -> list[dict]:
    """v1 ok, v2 ok, v3 fails its health check, v4 ok, v5 ok but rolled back to v4 (all hours before END)."""
    return [
        record(1, "v1", 50, promoted=49, commit="a" * 40, commit_time=(END - timedelta(hours=52)).isoformat()),
        record(2, "v2", 40, promoted=39.5),  # no git: its first record is the change's time
        record(3, "v3", 30, failed=29),
        record(4, "v4", 20, promoted=19),
        record(5, "v5", 10, promoted=9),
        record(6, "v4", 8, promoted=7.5, rollback=8, replacing="web-v5-5"),
    ]


def test_the_four_figures_of_a_history_computed_by_hand():
    found = delivery.figures(delivery.changes(history()), delivery.window("3d", END))
    assert (found["deployments"], found["promoted"], found["failures"]) == (5, 4, 2)  # the rollback is no change
    assert found["deployment_frequency_per_day"] == pytest.approx(4 / 3, abs=1e-4)
    assert found["change_failure_rate"] == 0.4
    leads = sorted([3 * 3600, 0.5 * 3600, 3600, 3600])  # v1 from its commit time, the others from their record
    assert found["lead_time_seconds"] == {"median": 3600.0, "p90": 10800.0, "samples": 4}
    assert leads[-1] == found["lead_time_seconds"]["p90"]
    # v3 failed at -29 h, restored by v4 at -19 h; v5 rolled back at -8 h, restored by the rollback at -7.5 h
    assert found["time_to_restore_seconds"] == {"median": (10 * 3600 + 1800) / 2, "restored": 2, "unrestored": 0}


def test_the_window_holds_what_finished_inside_it_and_a_series_per_day():
    win = delivery.window("12h", END)
    found = delivery.figures(delivery.changes(history()), win)
    assert (found["deployments"], found["failures"]) == (1, 1)  # v5 only: promoted at -9 h and rolled back
    assert [d["date"] for d in found["series"]] == ["2026-03-10"]  # 00:00 to 12:00 on one day
    week = delivery.figures(delivery.changes(history()), delivery.window("1w", END))["series"]
    assert len(week) == 8 and week[0]["date"] == "2026-03-03" and week[-1]["date"] == "2026-03-10"
    assert sum(d["deployments"] for d in week) == 5 and sum(d["failures"] for d in week) == 2
    by_day = {d["date"]: d for d in week}
    assert by_day["2026-03-08"]["deployments"] == 2  # v1 at 11:00 and v2 at 20:30 on the 8th
    assert by_day["2026-03-08"]["lead_time_median_seconds"] == (3 * 3600 + 1800) / 2


def test_a_failure_not_yet_restored_and_an_empty_window():
    records = history()[:3]  # v3's failure is the last thing that happened
    found = delivery.figures(delivery.changes(records), delivery.window("3d", END))
    assert found["time_to_restore_seconds"] == {"median": None, "restored": 0, "unrestored": 1}
    empty = delivery.figures([], delivery.window("1d", END))
    assert empty["change_failure_rate"] is None and empty["lead_time_seconds"]["median"] is None
    assert empty["deployment_frequency_per_day"] == 0


def test_overall_pools_the_apps():
    other = [dict(r, id=r["id"].replace("web", "api")) for r in history()[:2]]
    report = delivery.report({"web": history(), "api": other}, delivery.window("3d", END))
    assert list(report["apps"]) == ["api", "web"]
    assert report["overall"]["deployments"] == 7 and report["overall"]["promoted"] == 6
    assert report["overall"]["lead_time_seconds"]["samples"] == 6
    assert report["window"] == {
        "text": "3d",
        "seconds": 3 * 86400,
        "start": "2026-03-07T12:00:00Z",
        "end": "2026-03-10T12:00:00Z",
    }


@pytest.mark.parametrize("text", ["", "0", "59m", "367d", "soon", "1" * 30, "-1d", "\uff11h", "\u0661h"])
def test_windows_outside_an_hour_to_a_year_are_refused(text):
    with pytest.raises(delivery.WindowError):
        delivery.window(text, END)


def test_commit_times_from_a_github_push_and_the_first_hook():
    assert commit_time.normalise("2026-03-01T10:20:30+01:00") == "2026-03-01T09:20:30Z"
    assert commit_time.normalise("2026-13-01T10:20:30Z") is None and commit_time.normalise("2026-03-01") is None
    payload = {
        "ref": "refs/heads/main",
        "after": "b" * 40,
        "repository": {"name": "r", "owner": {"login": "o"}},
        "head_commit": {"timestamp": "2026-03-01T10:20:30-05:00"},
    }
    assert _push(payload).hooks[0].commit_time == "2026-03-01T15:20:30Z"
    assert _commit_time({"commit-time": None, "commit-seen": 0}) == {"commit-time": "1970-01-01T00:00:00Z"}
    assert _commit_time({}) == {}


def test_totem_stats_rows_read_durations_as_the_dashboard_does():
    from totem_cli.ops.stats import row

    found = delivery.figures(delivery.changes(history()), delivery.window("3d", END))
    assert row("web", found) == ["web", "5 (2 failed)", "1.33", "60 min 00 s", "3 h 00 min", "40%", "5 h 15 min"]
    empty = delivery.figures([], delivery.window("1d", END))
    assert row("api", empty)[3:] == ["—", "—", "-", "—"]
