"""The operator commands' parsing, output and exit codes, with stand-in service clients."""

from __future__ import annotations

import argparse
import json

import pytest

from tests.unit.test_dashboard_app import Deployer, Factory, Orchestrator, record
from totem.net import free_port
from totem_cli import ops
from totem_cli.ops import output
from totem_client import Clients

COMMANDS = ("apps", "app", "deploy", "rollback", "undeploy", "jobs", "builds", "logs", "dashboard")


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="totem")
    commands = parser.add_subparsers(dest="command")
    ops.register(commands)
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def stand_ins(monkeypatch):
    deployer = Deployer()
    clients = Clients(Orchestrator(), deployer, Factory())
    monkeypatch.setattr(output.Clients, "from_settings", classmethod(lambda cls, settings, token=None: clients))
    return deployer


def test_every_operator_command_is_registered():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    ops.register(commands)
    assert set(COMMANDS) <= set(commands.choices)
    assert parser.parse_args(["deploy", "acme/shop", "--ref", "main"]).repository == ("acme", "shop")
    with pytest.raises(SystemExit):
        parser.parse_args(["deploy", "acme", "--ref", "main"])
    with pytest.raises(SystemExit):
        parser.parse_args(["deploy", "acme/shop"])


def test_tables_align_columns():
    assert output.table([["a", 1], ["long-name", None]], ["NAME", "N"]).splitlines() == [
        "NAME       N",
        "a          1",
        "long-name",
    ]


def test_apps_as_a_table_and_as_json(stand_ins, capsys):
    assert run(["apps"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["APP", "LIVE", "STATE"]
    assert lines[1].split()[:5] == ["shop", "v2", "PROMOTED", "shop.localhost", "1/1"]
    assert run(["apps", "--json", "--repo", "shop"]) == 0
    assert [row["name"] for row in json.loads(capsys.readouterr().out)] == ["shop"]


def test_app_shows_versions_instances_and_wiring(stand_ins, capsys):
    assert run(["app", "shop"]) == 0
    shown = capsys.readouterr().out
    assert "live v2" in shown and "shop-v1-1" in shown and "GET /health → 200" in shown
    assert "shop.localhost" in shown and "shop-v2-8080" in shown


def test_an_unknown_app_exits_1_with_the_services_message(stand_ins, capsys):
    assert run(["app", "nope"]) == 1
    assert "no app named 'nope'" in capsys.readouterr().err


def test_rollback_follows_the_deployment_and_exits_on_its_outcome(stand_ins, capsys, monkeypatch):
    assert run(["rollback", "shop", "--to", "v1"]) == 0
    out = capsys.readouterr().out
    assert "rollback of shop to v1" in out and "CHECK_PASSED" in out and "PROMOTED" in out
    assert stand_ins.calls == [("rollback", "shop", "v1", None)]
    monkeypatch.setattr(Deployer, "deployment", lambda self, i: dict(record("v1", "FAILED"), error="check failed"))
    assert run(["rollback", "shop", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_unreachable_services_exit_3(monkeypatch, capsys):
    monkeypatch.setenv("TOTEM_DEPLOYER_URL", f"http://127.0.0.1:{free_port()}")
    assert run(["apps"]) == 3
    assert "cannot reach" in capsys.readouterr().err
    assert run(["rollback", "shop", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "unreachable"


def test_deploying_an_image_needs_the_hook_secret(monkeypatch, capsys):
    monkeypatch.delenv("TOTEM_HOOK_SECRET", raising=False)
    assert run(["deploy", "acme/shop", "--ref", "main", "--commit", "a" * 40, "--image", "x:1"]) == 2
    assert "TOTEM_HOOK_SECRET" in capsys.readouterr().err


def test_bad_settings_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("TOTEM_SCHEDULER", "nomad")
    assert run(["jobs"]) == 2
    assert "configuration error" in capsys.readouterr().err
