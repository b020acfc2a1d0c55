"""ANSI colours to escaped HTML, and the deployment timeline's phases."""

from __future__ import annotations

from totem_dashboard import ansi, timeline
from totem_dashboard.times import duration


def test_ansi_text_is_escaped_before_colouring():
    html = str(ansi.to_html("\x1b[31m<script>alert(1)</script>\x1b[0m & done"))
    assert html == '<span class="ansi-fg-31">&lt;script&gt;alert(1)&lt;/script&gt;</span> &amp; done'


def test_ansi_styles_combine_and_reset():
    html = str(ansi.to_html("\x1b[1;32mok\x1b[22m plain green\x1b[39m none"))
    assert html == ('<span class="ansi-bold ansi-fg-32">ok</span><span class="ansi-fg-32"> plain green</span> none')


def test_ansi_other_escapes_are_dropped():
    assert str(ansi.to_html("50%\r100%\x1b[K\x1b[2Adone")) == "50%100%done"
    assert str(ansi.to_html("\x1b[mreset only")) == "reset only"


def event(kind: str, second: float) -> dict:
    return {"type": kind, "date": f"2026-01-01T00:00:{second:06.3f}Z"}


PROMOTED = {
    "state": "PROMOTED",
    "timeline": [
        event("NEW_DEPLOYMENT", 10),
        event("DEPLOYMENT_STARTED", 10.5),
        event("INSTANCES_STARTED", 11),
        event("CHECK_PASSED", 14),
        event("WIRED", 14.5),
        event("PROXIES_APPLIED", 15),
        event("DRAINED", 25),
        event("DEPLOYMENT_PROMOTED", 25.25),
    ],
}
START = 1767225600.0  # 2026-01-01T00:00:00Z
JOB = {
    "created": START + 1,
    "hooks": {
        "scm-push:github": {"type": "scm-push", "status": "success", "received": START},
        "builder:image-factory": {"type": "builder", "status": "success", "received": START + 6},
        "ci:travis": {"type": "ci", "status": "success", "received": START + 8},
    },
}


def test_phases_from_webhook_to_promotion_with_durations():
    phases = {p.name: p for p in timeline.phases(PROMOTED, JOB)}
    assert list(phases) == list(timeline.PHASES)
    assert all(p.status == "done" for p in phases.values())
    assert phases["build"].duration == 6 and phases["CI"].duration == 2
    assert phases["deploy"].duration == 2.5 and phases["healthy"].duration == 3.5
    assert phases["drained"].duration == 10
    assert phases["webhook"].offset == 0 and phases["promoted"].offset + phases["promoted"].width >= 99


def test_without_a_job_the_pipeline_phases_are_skipped():
    phases = {p.name: p for p in timeline.phases(PROMOTED)}
    assert [phases[n].status for n in ("webhook", "build", "CI")] == ["skipped"] * 3
    assert phases["deploy"].start == phases["deploy"].end


def test_a_rollback_ignores_the_earlier_job():
    rollback = dict(
        PROMOTED, timeline=[event("NEW_DEPLOYMENT", 10), event("ROLLBACK_REQUESTED", 10)] + PROMOTED["timeline"][1:]
    )
    assert {p.name: p.status for p in timeline.phases(rollback, JOB)}["build"] == "skipped"


def test_a_failed_deployment_marks_the_phase_it_failed_in():
    failed = {
        "state": "FAILED",
        "timeline": [event("NEW_DEPLOYMENT", 10), event("DEPLOYMENT_STARTED", 11), event("DEPLOYMENT_FAILED", 20)],
    }
    statuses = {p.name: p.status for p in timeline.phases(failed)}
    assert statuses["deploy"] == "done" and statuses["healthy"] == "failed"
    assert statuses["wired"] == statuses["promoted"] == "pending"


def test_a_running_deployment_has_pending_phases():
    running = {"state": "STARTED", "timeline": PROMOTED["timeline"][:3]}
    statuses = {p.name: p.status for p in timeline.phases(running, JOB)}
    assert statuses["build"] == statuses["deploy"] == "done"
    assert statuses["healthy"] == statuses["promoted"] == "pending"


def test_durations_read_well():
    assert duration(None) == "—" and duration(0.25) == "250 ms"
    assert duration(12.34) == "12.3 s" and duration(125) == "2 min 05 s"
    assert duration(89 * 60 + 59) == "89 min 59 s" and duration(90 * 60) == "1 h 30 min"
    assert duration(47 * 3600 + 59 * 60) == "47 h 59 min" and duration(2 * 86400 + 4 * 3600 + 5) == "2 d 04 h"


def test_an_app_whose_http_check_was_skipped_counts_its_instances_healthy():
    """check.path "" (or check.port 0) runs no HTTP check; as in 2015 a promoted app is healthy."""
    from totem_dashboard.gather import health_of

    timeline = [{"type": "CHECK_PASSED", "details": {"skipped": "check.path is empty"}}]
    record = {"state": "PROMOTED", "instances": {"a-1": {}, "a-2": {}}, "timeline": timeline}
    assert health_of(record) == {"instances": 2, "healthy": 2, "ok": True}
    checked = [{"type": "CHECK_PASSED", "details": {"checked": {"a-1": 200}}}]
    assert health_of({**record, "timeline": checked}) == {"instances": 2, "healthy": 1, "ok": False}
