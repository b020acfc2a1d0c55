"""A scheduled job in `totem app NAME` and on the dashboard's app page: the schedule, the next run
and the last runs with their exit codes, from GET /apps/<name>'s `schedule` (stand-in clients).

2015 showed nothing of a job's runs: they were systemd's, on the fleet machines.
"""

from __future__ import annotations

import pytest

from tests.unit.test_dashboard_app import HOSTILE, TOKEN, Deployer, Factory, Orchestrator
from tests.unit.test_ops_cli import run
from totem.settings import Settings
from totem_cli.ops import output
from totem_client import Clients
from totem_dashboard.app import create_app


def a_run(minute: int, status: str, exit_code: int | None, out: str = "", reason: str | None = None) -> dict:
    return {
        "id": f"20260101T00{minute:02d}00Z",
        "deployment": "shop-v2-1",
        "scheduled": f"2026-01-01T00:{minute:02d}:00Z",
        "status": status,
        "started": f"2026-01-01T00:{minute:02d}:00.200Z" if exit_code is not None else None,
        "finished": f"2026-01-01T00:{minute:02d}:01.000Z",
        "exit_code": exit_code,
        "host": "unix:///var/run/docker.sock" if exit_code is not None else None,
        "output": out,
        "reason": reason,
        "note": None,
    }


class JobDeployer(Deployer):
    def app(self, name):
        shown = super().app(name)
        shown["schedule"] = {
            "deployment": "shop-v2-1",
            "schedule": "*:0/1",
            "runner": "deployer",
            "next": "2026-01-01T00:03:00Z",
            "runs": [
                a_run(2, "failed", 3, "starting\nexit \x1b[31mthree\x1b[0m\n"),
                a_run(1, "skipped", None, reason="run 20260101T000000Z was still running"),
                a_run(0, "succeeded", 0, f"hello {HOSTILE}\n"),
            ],
        }
        return shown


@pytest.fixture
def stand_ins(monkeypatch):
    clients = Clients(Orchestrator(), JobDeployer(), Factory())
    monkeypatch.setattr(output.Clients, "from_settings", classmethod(lambda cls, settings, token=None: clients))
    return clients


def test_totem_app_prints_the_schedule_next_run_and_last_runs(stand_ins, capsys):
    assert run(["app", "shop"]) == 0
    shown = capsys.readouterr().out
    schedule = shown[shown.index("SCHEDULE") :].splitlines()
    assert schedule[0] == "SCHEDULE *:0/1 (UTC), next run 2026-01-01T00:03:00Z, run by deployer"
    assert schedule[1].split() == ["SCHEDULED", "STATUS", "EXIT", "HOST", "FINISHED", "LAST", "LINE", "/", "REASON"]
    assert schedule[2].split()[:3] == ["2026-01-01T00:02:00Z", "failed", "3"]
    assert "\x1b" not in shown and "exit ?[31mthree?[0m" in schedule[2]  # output never drives the terminal
    assert schedule[3].split()[:3] == ["2026-01-01T00:01:00Z", "skipped", "-"] and "still running" in schedule[3]
    assert schedule[4].split()[:3] == ["2026-01-01T00:00:00Z", "succeeded", "0"]


def test_totem_app_json_has_the_schedule(stand_ins, capsys):
    import json

    assert run(["app", "shop", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["schedule"]
    assert [r["exit_code"] for r in shown["runs"]] == [3, None, 0]


def test_the_app_page_shows_the_runs_escaped(monkeypatch):
    monkeypatch.delenv("TOTEM_DASHBOARD_SECRET", raising=False)
    app = create_app(Settings(api_token=TOKEN), Clients(Orchestrator(), JobDeployer(), Factory()))
    page = app.test_client().get("/apps/shop").get_data(as_text=True)
    section = page[page.index('id="schedule"') :]
    section = section[: section.index("</section>")]
    assert "<code>*:0/1</code>" in section and "2026-01-01 00:03:00 UTC" in section
    rows = section.split('<tr data-run="')[1:]
    assert [r.split('"')[0] for r in rows] == ["20260101T000200Z", "20260101T000100Z", "20260101T000000Z"]
    assert "<td>3</td>" in rows[0] and "still running" in rows[1] and "<td>0</td>" in rows[2]
    assert HOSTILE not in page and "&lt;script&gt;" in section


def test_an_app_that_is_no_job_has_no_schedule_section(monkeypatch):
    monkeypatch.delenv("TOTEM_DASHBOARD_SECRET", raising=False)
    app = create_app(Settings(api_token=TOKEN), Clients(Orchestrator(), Deployer(), Factory()))
    assert 'id="schedule"' not in app.test_client().get("/apps/shop").get_data(as_text=True)
