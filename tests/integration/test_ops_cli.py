"""The operator commands against the whole stack: deploy (build → job → deployment) with progress,
listings, logs, rollback, deploy of an existing image, undeploy; output and exit codes."""

from __future__ import annotations

import json

import pytest

from tests.browser.fullstack import FullStack
from tests.support import run_totem

SHARED = (
    "TOTEM_ORCHESTRATOR_URL",
    "TOTEM_DEPLOYER_URL",
    "TOTEM_IMAGE_FACTORY_URL",
    "TOTEM_API_TOKEN",
    "TOTEM_HOOK_SECRET",
    "TOTEM_GIT_URL_TEMPLATE",
    "TOTEM_REDIS_URL",
    "TOTEM_CLUSTER",
)


@pytest.fixture(scope="module")
def stack():
    stack = FullStack().start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def environment(stack, monkeypatch):
    for name in SHARED:
        monkeypatch.setenv(name, stack.env[name])


def test_deploy_builds_then_follows_the_deployment(stack, capsys):
    stack.commit("v1")
    code = run_totem("deploy", f"{stack.owner}/{stack.repo}", "--ref", stack.ref, "--timeout", "120")
    out = capsys.readouterr().out
    assert code == 0, out + stack.logs()
    assert "build checkout" in out and "job " in out and "COMPLETE" in out
    assert out.index("CHECK_PASSED") < out.index("PROXIES_APPLIED") < out.index("DEPLOYMENT_PROMOTED")
    assert out.rstrip().endswith("deployed: promoted")
    assert stack.served() == "version=v1"


def test_deploy_with_json_output(stack, capsys):
    sha = stack.commit("v2")
    code = run_totem("deploy", f"{stack.owner}/{stack.repo}", "--ref", stack.ref, "--commit", sha, "--json")
    outcome = json.loads(capsys.readouterr().out)
    assert code == 0 and outcome["ok"] is True
    assert outcome["build"]["status"] == "succeeded"
    assert outcome["deployments"][0]["state"] == "PROMOTED" and outcome["deployments"][0]["version"] == sha[:12]
    assert stack.served() == "version=v2"


def test_listings_and_logs(stack, capsys):
    assert run_totem("apps", "--owner", stack.owner) == 0
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith(stack.app)]
    assert row and stack.commits["v2"][:12] in row[0] and "PROMOTED" in row[0] and "1/1" in row[0]
    assert run_totem("app", stack.app, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["live_version"] == stack.commits["v2"][:12]
    assert shown["instances"][0]["healthy"] and shown["wiring"][0]["host"] == stack.host
    assert run_totem("jobs", "--owner", stack.owner, "--json") == 0
    assert [job["state"] for job in json.loads(capsys.readouterr().out)] == ["COMPLETE", "COMPLETE"]
    assert run_totem("builds", "--owner", stack.owner) == 0
    builds = capsys.readouterr().out.splitlines()[1:]
    assert len(builds) == 2 and all("succeeded" in line for line in builds)
    build_id = builds[0].split()[0]
    assert run_totem("logs", build_id) == 0
    assert "built" in capsys.readouterr().out
    assert run_totem("logs", build_id, "--follow") == 0
    followed = capsys.readouterr()
    assert "==> build" in followed.out and "build succeeded" in followed.err


def test_rollback_to_a_version(stack, capsys):
    version = stack.commits["v1"][:12]
    assert run_totem("rollback", stack.app, "--to", version) == 0
    out = capsys.readouterr().out
    assert f"rollback of {stack.app} to {version}" in out and "PROMOTED" in out
    assert stack.served() == "version=v1"


def test_deploy_an_existing_image(stack, capsys):
    built = stack.api("image_factory", f"/builds?owner={stack.owner}&commit={stack.commits['v2']}")
    image = built["builds"][0]["image"]
    sha = stack.commit("v3")
    code = run_totem("deploy", f"{stack.owner}/{stack.repo}", "--ref", stack.ref, "--commit", sha, "--image", image)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "sent to the orchestrator" in out and "DEPLOYMENT_PROMOTED" in out
    assert stack.served() == "version=v2"
    assert stack.api("deployer", f"/apps/{stack.app}")["deployments"][0]["version"] == sha[:12]


def test_undeploy(stack, capsys):
    live = stack.commits["v3"][:12]
    assert run_totem("undeploy", stack.app, "--version", live) == 1
    assert "serves traffic" in capsys.readouterr().err
    assert run_totem("undeploy", stack.app, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "app": stack.app, "version": None, "remaining": []}
    assert stack.served() != "version=v2"
    assert run_totem("rollback", "no-such-app") == 1
