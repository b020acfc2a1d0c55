"""The rollout and traffic controls with stand-in service clients: the CLI's arguments, output and exit
codes; the dashboard's rollout panel, which buttons it shows when, and its confirm-then-act flow."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from tests.unit.test_dashboard_app import TOKEN, Deployer, Factory, Orchestrator, csrf, record, sign_in
from totem.contracts.deploy_request import duration_seconds
from totem.settings import Settings
from totem_cli import ops
from totem_cli.ops import output
from totem_client import Clients, ServiceError
from totem_dashboard.app import create_app

ROLLOUT = {
    "deployment": "shop-v3-1",
    "version": "v3",
    "strategy": "canary",
    "phase": "awaiting-promote",
    "step": 1,
    "steps": [{"weight": 5, "pause": "30s"}, {"weight": 25, "pause": "manual"}, {"weight": 100}],
    "weight": 25,
    "analysis": [
        {"name": "error-rate", "query": "sum(rate(x[1m]))", "value": 0.012, "max": 0.05, "min": None, "ok": True},
        {"name": "latency", "query": "histogram_quantile(0.99, y)", "value": 0.8, "max": 0.5, "min": None, "ok": False},
        {"name": "throughput", "query": "z", "value": None, "max": None, "min": 1.0, "ok": None},
    ],
    "requests": 412.0,
    "samples": [
        {
            "at": f"2026-01-01T00:00:{s:02d}Z",
            "weight": w,
            "canary": {"error-rate": 0.01, "latency": 0.3, "requests": 10.0},
            "stable": {"error-rate": 0.0, "latency": 0.1, "requests": 90.0},
        }
        for s, w in ((0, 5), (10, 5), (20, 25))
    ],
    "preview": {"host": "preview.shop.localhost"},
    "reason": None,
}


class RolloutDeployer(Deployer):
    """The dashboard's stand-in deployer with an app in a canary rollout and traffic controls."""

    def __init__(self):
        super().__init__()
        self.rollout: dict | None = dict(ROLLOUT)
        self.traffic: dict = {"maintenance": None, "paused": None}
        self.states = ["STARTED", "PROMOTED"]

    def app(self, name):
        shown = super().app(name)
        shown["deployments"] = [dict(d, state=s) for d, s in zip(shown["deployments"], self.states, strict=True)]
        return dict(shown, rollout=self.rollout, traffic=self.traffic)

    def promote(self, name, full=False):
        self.calls.append(("promote", name, full, self.token))
        if self.rollout is None:
            raise ServiceError("deployer", 409, "nothing_to_promote", f"{name} has no rollout waiting")
        return record("v3", "STARTED")

    def abort(self, name, reason=None):
        self.calls.append(("abort", name, reason, self.token))
        return record("v3", "STARTED")

    def pause(self, name, max=None):
        self.calls.append(("pause", name, max, self.token))
        held = 30.0 if max is None else duration_seconds(str(max))
        self.traffic = dict(self.traffic, paused={"max": held})
        return {"app": name, "hosts": ["shop.localhost"], **self.traffic}

    def resume(self, name):
        self.calls.append(("resume", name, self.token))
        self.traffic = dict(self.traffic, paused=None)
        return {"app": name, "hosts": ["shop.localhost"], **self.traffic}

    def maintenance(self, name, enabled, retry_after=None):
        self.calls.append(("maintenance", name, enabled, retry_after, self.token))
        shown = {"retry-after": retry_after or 30} if enabled else None
        self.traffic = dict(self.traffic, maintenance=shown)
        return {"app": name, "hosts": ["shop.localhost"], **self.traffic}


@pytest.fixture
def deployer():
    return RolloutDeployer()


@pytest.fixture
def cli(deployer, monkeypatch):
    clients = Clients(Orchestrator(), deployer, Factory())
    monkeypatch.setattr(output.Clients, "from_settings", classmethod(lambda cls, settings, token=None: clients))
    return deployer


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="totem")
    ops.register(parser.add_subparsers(dest="command"))
    return parser


def run(*argv: str) -> int:
    args = parser().parse_args(list(argv))
    return args.handler(args)


# -- CLI ------------------------------------------------------------------------------------------


def test_the_commands_parse_their_arguments():
    parse = parser().parse_args
    assert parse(["promote", "shop", "--full"]).full is True and parse(["promote", "shop"]).full is False
    assert parse(["abort", "shop", "--reason", " bad latency "]).reason == "bad latency"
    assert parse(["pause", "shop", "--max", "2m"]).max == "2m" and parse(["pause", "shop"]).max is None
    assert parse(["pause", "shop", "--max", "45"]).max == "45"
    chosen = parse(["maintenance", "on", "shop", "--retry-after", "120"])
    assert (chosen.switch, chosen.app, chosen.retry_after) == ("on", "shop", 120)
    assert parse(["rollout", "shop", "--json"]).json is True
    for wrong in (
        ["pause", "shop", "--max", "10m"],  # more than 300 s
        ["pause", "shop", "--max", "soon"],
        ["pause", "shop", "--max", "0s"],
        ["abort", "shop", "--reason", "x" * 201],
        ["abort", "shop", "--reason", "  "],
        ["maintenance", "maybe", "shop"],
        ["maintenance", "on", "shop", "--retry-after", "-1"],
        ["maintenance", "on", "shop", "--retry-after", "0"],
        ["maintenance", "on"],
        ["promote"],
    ):
        with pytest.raises(SystemExit):
            parse(wrong)


def test_promote_pause_resume_and_maintenance_print_one_line(cli, capsys):
    assert run("promote", "shop") == 0
    assert capsys.readouterr().out == "shop: promote accepted, shop-v3-1 goes on to its next step\n"
    assert run("promote", "shop", "--full") == 0
    assert "switches to 100 % now" in capsys.readouterr().out
    assert run("pause", "shop", "--max", "45s") == 0
    assert capsys.readouterr().out == "shop: new requests held at the proxy for up to 45s (totem resume shop)\n"
    assert run("resume", "shop") == 0
    assert capsys.readouterr().out == "shop: requests flow again\n"
    assert run("maintenance", "on", "shop", "--retry-after", "120") == 0
    assert capsys.readouterr().out == "shop: maintenance on: 503 with Retry-After 120s\n"
    assert run("maintenance", "off", "shop", "--json") == 0
    assert json.loads(capsys.readouterr().out)["maintenance"] is None
    assert cli.calls == [
        ("promote", "shop", False, None),
        ("promote", "shop", True, None),
        ("pause", "shop", "45s", None),
        ("resume", "shop", None),
        ("maintenance", "shop", True, 120, None),
        ("maintenance", "shop", False, None, None),
    ]


def test_abort_follows_the_deployment_to_failed(cli, capsys, monkeypatch):
    aborted = dict(record("v3", "FAILED"), error="aborted by bad latency")
    monkeypatch.setattr(RolloutDeployer, "deployment", lambda self, i: aborted)
    assert run("abort", "shop", "--reason", "bad latency") == 0
    out = capsys.readouterr().out
    assert "shop: abort of shop-v3-1 (v3) accepted" in out and out.rstrip().endswith("FAILED (aborted by bad latency)")
    monkeypatch.setattr(RolloutDeployer, "deployment", lambda self, i: record("v3", "PROMOTED"))
    assert run("abort", "shop", "--json") == 1  # promoted before the abort landed: not aborted
    assert json.loads(capsys.readouterr().out)["ok"] is False
    assert run("abort", "shop", "--no-wait") == 0
    assert cli.calls[0] == ("abort", "shop", "bad latency", None) and cli.calls[1] == ("abort", "shop", None, None)


def test_refusals_exit_1_with_the_deployers_message(cli, capsys):
    cli.rollout = None
    assert run("promote", "shop") == 1
    assert capsys.readouterr().err == "totem promote: deployer: shop has no rollout waiting\n"
    assert run("promote", "shop", "--json") == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "nothing_to_promote"


def test_rollout_shows_phase_step_weight_and_each_check_against_its_threshold(cli, capsys):
    assert run("rollout", "shop") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "shop: canary rollout of v3 (shop-v3-1), phase awaiting-promote"
    assert lines[1] == "step 2/3 (weight 25 %, pause manual), canary weight 25 %"
    assert lines[2] == "traffic: not paused, maintenance off"
    assert "preview: http://preview.shop.localhost/" in lines and "requests analysed: 412" in lines
    checks = {line.split()[0]: line.split()[1:] for line in lines[lines.index("") + 2 :]}
    assert checks == {
        "error-rate": ["0.012", "≤", "0.05", "ok"],
        "latency": ["0.8", "≤", "0.5", "FAIL"],
        "throughput": ["—", "≥", "1", "—"],
    }
    assert run("rollout", "shop", "--json") == 0
    assert json.loads(capsys.readouterr().out)["rollout"]["phase"] == "awaiting-promote"
    cli.rollout, cli.traffic = None, {"paused": {"max": 30.0}, "maintenance": {"retry-after": 60}}
    assert run("rollout", "shop") == 0
    assert capsys.readouterr().out.splitlines() == [
        "shop: no rollout",
        "traffic: paused (up to 30s), maintenance on (Retry-After 60s)",
    ]


# -- dashboard ------------------------------------------------------------------------------------


@pytest.fixture
def client(deployer, monkeypatch):
    monkeypatch.delenv("TOTEM_DASHBOARD_SECRET", raising=False)
    return create_app(Settings(api_token=TOKEN), Clients(Orchestrator(), deployer, Factory())).test_client()


def ids(html: str) -> set[str]:
    return set(re.findall(r'id="([a-z-]+-button)"', html))


def test_the_rollout_panel_is_part_of_the_live_region(client):
    part = client.get("/apps/shop", headers={"X-Fragment": "1"}).get_data(as_text=True)
    assert 'id="rollout" data-phase="awaiting-promote"' in part
    assert 'id="rollout-step">2 of 3<' in part and 'id="rollout-weight">25 %<' in part
    assert 'href="http://preview.shop.localhost:8080/"' in part
    rows = dict(re.findall(r'<tr data-check="([a-z-]+)">(.*?)</tr>', part, re.S))
    assert "0.012" in rows["error-rate"] and "≤ 0.05" in rows["error-rate"] and "health ok" in rows["error-rate"]
    assert "≤ 0.5" in rows["latency"] and "health bad" in rows["latency"]
    assert "≥ 1" in rows["throughput"] and "—" in rows["throughput"]
    assert part.count('<svg class="chart"') == 2 and 'data-series="canary"' in part
    assert ids(part) == {
        "promote-button",
        "promote-full-button",
        "abort-button",
        "pause-button",
        "maintenance-on-button",
    }


def test_the_buttons_follow_the_rollout_and_the_traffic(client, deployer):
    previews = {"hosts": ["preview.shop.localhost", "preview.www.shop"]}
    deployer.rollout = dict(ROLLOUT, phase="starting", preview=previews)
    deployer.traffic = {"paused": {"max": 30.0}, "maintenance": {"retry-after": 30}}
    page = client.get("/apps/shop").get_data(as_text=True)
    assert ids(page) == {"promote-full-button", "abort-button", "resume-button", "maintenance-off-button"}
    assert "requests held up to 30s" in page and "503, Retry-After 30s" in page
    assert page.count('class="preview-link"') == 2
    deployer.rollout = dict(ROLLOUT, phase="aborted", reason="aborted by operator")
    deployer.states = ["FAILED", "PROMOTED"]
    deployer.traffic = {"paused": None, "maintenance": None}
    page = client.get("/apps/shop").get_data(as_text=True)
    assert ids(page) == {"pause-button", "maintenance-on-button"} and "aborted by operator" in page
    deployer.rollout, deployer.states = None, ["STARTED", "PROMOTED"]
    page = client.get("/apps/shop").get_data(as_text=True)
    assert 'id="rollout"' not in page and ids(page) == {"pause-button", "maintenance-on-button", "abort-button"}


def test_each_control_confirms_then_acts_with_the_operators_token(client, deployer):
    assert "goes on to its next step" not in client.get("/apps/shop/confirm/promote").get_data(as_text=True)
    sign_in(client)
    for action, text in (
        ("promote", "end its current wait"),
        ("abort", "ends FAILED"),
        ("pause", "not refused"),
        ("resume", "go through again"),
        ("maintenance-on", "503 and a maintenance page"),
        ("maintenance-off", "reach the app again"),
    ):
        assert text in client.get(f"/apps/shop/confirm/{action}").get_data(as_text=True), action
    assert "skip its remaining steps" in client.get("/apps/shop/confirm/promote?full=1").get_data(as_text=True)
    token = csrf(client, "/apps/shop/confirm/abort")
    flashed = []
    for action, form in (
        ("promote", {"full": "0"}),
        ("promote", {"full": "1"}),
        ("abort", {"reason": " latency too high "}),
        ("pause", {"max": "45s"}),
        ("resume", {}),
        ("maintenance-on", {"retry-after": "90"}),
        ("maintenance-off", {}),
    ):
        answer = client.post(f"/apps/shop/{action}", data={"csrf": token, **form})
        assert answer.status_code == 302 and answer.headers["Location"] == "/apps/shop"
        flashed.append(
            re.search(
                r'class="flash ok" role="status">([^<]+)<', client.get("/apps/shop").get_data(as_text=True)
            ).group(1)
        )
    assert deployer.calls == [
        ("promote", "shop", False, TOKEN),
        ("promote", "shop", True, TOKEN),
        ("abort", "shop", "latency too high", TOKEN),
        ("pause", "shop", "45s", TOKEN),
        ("resume", "shop", TOKEN),
        ("maintenance", "shop", True, 90, TOKEN),
        ("maintenance", "shop", False, None, TOKEN),
    ]
    assert flashed[2] == "Abort of shop requested (shop-v3-1)."
    assert flashed[3] == "Traffic to shop paused: new requests are held for up to 45s."
    assert flashed[5] == "Maintenance of shop on: the proxy answers 503 (Retry-After 90s)."


def test_controls_refused_or_failing_change_nothing(client, deployer):
    token = csrf(client, "/apps/shop/confirm/maintenance-on")
    answer = client.post("/apps/shop/maintenance-on", data={"csrf": token})
    assert answer.status_code == 401 and deployer.calls == []
    sign_in(client)
    token = csrf(client, "/apps/shop/confirm/maintenance-on")
    assert client.post("/apps/shop/maintenance-on", data={"retry-after": "30"}).status_code == 400
    client.post("/apps/shop/maintenance-on", data={"csrf": token, "retry-after": "soon"})
    assert "Retry-After must be a whole number" in client.get("/apps/shop").get_data(as_text=True)
    deployer.rollout = None
    client.post("/apps/shop/promote", data={"csrf": token})
    assert "Promote failed: shop has no rollout waiting" in client.get("/apps/shop").get_data(as_text=True)
    assert deployer.calls == [("promote", "shop", False, TOKEN)]
    assert client.get("/apps/shop/confirm/explode").status_code == 404
