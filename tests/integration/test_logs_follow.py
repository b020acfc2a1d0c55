"""`totem logs` (the real CLI process when following, the same commands in-process for the filters)
against a real deployer under gunicorn and real Docker: a
2-instance v1 with an a/b v2 beside it; every instance's lines merged in time order with its prefix,
live with --follow; --version, --instance and --since filter; bad values are clear errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import uuid

import pytest
import requests

from deployer.log_sources import parse_time
from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import REPO, DeployerStack, deploy_request
from tests.support import run_totem
from totem.waiting import wait

pytest_plugins = ["tests.images.fixtures"]  # docker_client


@pytest.fixture(scope="module")
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=0.5, discover_timeout=8.0).start()
    try:
        stack.start_api()
        yield stack
    finally:
        stack.stop()


def say(container, text: str, stream: int = 1) -> None:
    """A line on the instance's own stdout (1) or stderr (2), as if its process printed it."""
    result = container.exec_run(["/bin/busybox", "sh", "-c", f"echo {text} > /proc/1/fd/{stream}"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def app(stack, docker_client):
    name = f"logs-{uuid.uuid4().hex[:8]}"
    host = f"{name}.localhost"
    check = {"min-nodes": 1, "port": None, "path": "/health", "timeout": "2s", "attempts": 5}
    for version, extra in (("v1", {}), ("v2", {"mode": "a/b", "nodes": 1, "check": check})):
        request = deploy_request(name, version, images.build(docker_client, version), host, **extra)
        answer = stack.deploy(request)
        assert answer.status_code == 202, answer.get_json()
        record = stack.wait_finished(answer.get_json()["deployment"]["id"])
        assert record["state"] == "PROMOTED", record
    nodes = {c.labels["totem.node"]: c for c in stack.containers(app=name)}
    v1 = sorted(n for n, c in nodes.items() if c.labels["totem.version"] == "v1")
    (v2,) = [n for n, c in nodes.items() if c.labels["totem.version"] == "v2"]
    assert len(v1) == 2
    short = {node: node.removeprefix(f"{name}-") for node in nodes}
    say(nodes[v1[0]], "early-one")
    say(nodes[v1[1]], "early-two", stream=2)
    say(nodes[v2], "early-v2")
    return {"name": name, "nodes": nodes, "v1": v1, "v2": v2, "short": short}


@pytest.fixture
def deployer_url(stack, monkeypatch):
    monkeypatch.setenv("TOTEM_DEPLOYER_URL", stack.url)


def entries(capsys, *argv: str) -> list[dict]:
    assert run_totem("logs", *argv, "--json") == 0, capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def marked(found: list[dict]) -> list[str]:
    return [e["line"] for e in found if e["line"].startswith(("early-", "live-"))]


def test_follow_shows_every_instance_live_with_its_prefix_in_time_order(stack, app):
    one, two = app["v1"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "totem_cli", "logs", app["name"], "--follow"],
        env={**stack.env, "TOTEM_DEPLOYER_URL": stack.url},
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.rstrip("\n") for line in iter(follower.stdout.readline, "")), daemon=True
    )
    reader.start()
    try:
        wait(lambda: any("early-v2" in line for line in lines), 30, 0.1, what="the backlog printed")
        say(app["nodes"][one], "live-1")
        say(app["nodes"][two], "live-2")
        say(app["nodes"][one], "live-3", stream=2)
        wait(lambda: any("live-3" in line for line in lines), 30, 0.1, what="the live lines printed")
        follower.send_signal(signal.SIGINT)
        assert follower.wait(15) == 130
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait(10)
    reader.join(5)
    shown = [line for line in lines if "live-" in line or "early-" in line]
    width = max(len(short) for short in app["short"].values())
    expected = [
        (app["v1"][0], "early-one"),
        (app["v1"][1], "early-two"),
        (app["v2"], "early-v2"),
        (one, "live-1"),
        (two, "live-2"),
        (one, "live-3"),
    ]
    assert shown == [f"{app['short'][node].ljust(width)} | {text}" for node, text in expected], lines


def test_version_instance_and_since_filter_the_merged_lines(app, deployer_url, capsys):
    every = entries(capsys, app["name"])
    assert {e["node"] for e in every} == set(app["nodes"])
    times = [parse_time(e["time"]) for e in every]
    assert times == sorted(times)
    assert {e["stream"] for e in every if e["line"] in ("early-two", "live-3")} == {"stderr"}
    first = next(e for e in every if e["line"] == "early-one")
    assert set(first) == {"time", "instance", "node", "host", "version", "stream", "line"}
    assert first["version"] == "v1" and first["instance"] == app["short"][app["v1"][0]]

    assert {e["node"] for e in entries(capsys, app["name"], "--version", "v2")} == {app["v2"]}
    assert {e["node"] for e in entries(capsys, app["name"], "--instance", "2")} == {app["v1"][1]}
    short = app["short"][app["v1"][0]]
    assert marked(entries(capsys, app["name"], "--instance", short)) == ["early-one", "live-1", "live-3"]

    since = next(e["time"] for e in every if e["line"] == "early-two")
    assert marked(entries(capsys, app["name"], "--since", since)) == [
        "early-two",
        "early-v2",
        "live-1",
        "live-2",
        "live-3",
    ]
    assert len(marked(entries(capsys, app["name"], "--since", "10m"))) == 6
    assert marked(entries(capsys, app["name"], "--tail", "1", "--version", "v2")) == ["early-v2"]


def test_bad_values_are_clear_errors(stack, app, deployer_url, capsys):
    for argv, message in (
        (["--since", "banana"], "since must be Unix seconds, an ISO 8601 time or a duration ago"),
        (["--tail", "-1"], "tail must be a number of lines from 0 to 10000"),
        (["--version", "v9"], f"{app['name']} has no version 'v9'"),
        (["--instance", "7"], f"{app['name']} has no instance '7'"),
        (["--instance", "no/such"], "instance must be an instance name or number"),
    ):
        assert run_totem("logs", app["name"], *argv) == 1, argv
        assert f"totem logs: deployer: {message}" in capsys.readouterr().err, argv
    assert run_totem("logs", "no-such-app", "--follow") == 1
    assert "totem logs: deployer: no app named 'no-such-app'" in capsys.readouterr().err
    answer = requests.get(f"{stack.url}/apps/{app['name']}/logs", params={"follow": "maybe"}, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"]["details"] == {"parameter": "follow"}
