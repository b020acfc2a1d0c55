"""Approval gates (docs/approvals.md) on the real orchestrator: a Celery worker with its beat (the
expiry check), a Redis of the module's own, tokens in the real token store, and the local HTTP server of
test_orchestrator_flow playing the deployers, Slack and a webhook receiver. An approval-gated app
deploys only after approval (once), never after a rejection or a timeout."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest
import redis
import requests

from orchestrator.api.openapi import document
from orchestrator.runtime import Runtime
from orchestrator.settings import OrchestratorSettings
from tests.integration import test_orchestrator_flow as flow
from tests.integration.test_orchestrator_flow import FINAL, Recorder, deployers_yaml, post_generic, wait_job
from tests.openapi_contract import check_answer
from tests.private_redis import PrivateRedis
from tests.support import orchestrator_worker, terminate
from tests.unit.test_orchestrator_payloads import commit, generic_hook
from totem.access.audit import AuditLog
from totem.access.tokens import TokenStore
from totem.api import gunicorn_conf
from totem.net import free_port
from totem.settings import Settings
from totem.waiting import wait

SECRET, TOKEN = flow.SECRET, "approvals-test-token"  # post_generic signs with flow.SECRET
RUN = uuid.uuid4().hex[:10]
ENV_NAME = f"prod{RUN}"
recorder, app_git = flow.recorder, flow.app_git  # its fake deployers, Slack and webhook; a repo per test


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()  # no other worker reads its queue
    yield server
    server.stop()


@pytest.fixture(scope="module")
def env(recorder, private_redis, tmp_path_factory):
    configs = tmp_path_factory.mktemp("repo-configs")
    return {
        **os.environ,
        "TOTEM_REDIS_URL": private_redis.url(),
        "TOTEM_ENV": ENV_NAME,
        "TOTEM_CLUSTER": "local",
        "TOTEM_HOOK_SECRET": SECRET,
        "TOTEM_API_TOKEN": TOKEN,
        "TOTEM_INSECURE_DEV": "0",
        "TOTEM_ACCESS_PREFIX": f"test-approvals-{RUN}:access",
        "TOTEM_ORCHESTRATOR_PREFIX": f"totem:approvals:{RUN}",
        "TOTEM_CONFIG_PROVIDERS": "repo,default",
        "TOTEM_REPO_CONFIG_URL": f"file://{configs}/{{owner}}/{{repo}}/{{commit}}/totem.yml",
        "TOTEM_DEPLOYER_URL": f"{recorder.url}/d/default",
        "TOTEM_GITHUB_API_URL": f"{recorder.url}/github",
        "TOTEM_DEPLOY_ATTEMPTS": "3",
        "TOTEM_DEPLOY_BACKOFF": "0.05",
        "TOTEM_APPROVAL_CHECK_INTERVAL": "0.5",  # the beat's expiry check, often enough for a 2 s timeout
        "TOTEM_ORCHESTRATOR_URL": "http://orchestrator.localhost:9400",
        "TOTEM_LOG_FORMAT": "kv",
    }


@pytest.fixture(scope="module")
def runtime(env):
    return Runtime.create(Settings.from_env(env), OrchestratorSettings.from_env(env))


@pytest.fixture(scope="module")
def worker(env, runtime, tmp_path_factory):
    with orchestrator_worker(runtime, env, tmp_path_factory.mktemp("worker"), 4, beat=True) as process:
        yield process


@pytest.fixture(scope="module")
def client(env, worker):
    from orchestrator.app import create_app

    return create_app(Settings.from_env(env), OrchestratorSettings.from_env(env)).test_client()


@pytest.fixture(scope="module")
def access(env, private_redis):
    client = redis.Redis.from_url(private_redis.url(), decode_responses=True)
    return TokenStore(client, env["TOTEM_ACCESS_PREFIX"]), AuditLog(client, env["TOTEM_ACCESS_PREFIX"])


@pytest.fixture(scope="module")
def served(env, worker, tmp_path_factory):
    """The orchestrator under gunicorn, as it runs (the CLI talks to it over HTTP)."""
    url = f"http://127.0.0.1:{free_port()}"
    log = open(tmp_path_factory.mktemp("api") / "orchestrator.log", "wb")
    argv = gunicorn_conf.command("orchestrator", url.removeprefix("http://"), "-w", "1", "--graceful-timeout", "2")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        wait(lambda: requests.get(f"{url}/health", timeout=2).ok, 30, 0.2, ignoring=(requests.RequestException,))
        yield url
    finally:
        terminate(process, 10)
        log.close()


def totem(env, url: str, token_value: str, *args: str) -> subprocess.CompletedProcess:
    cli_env = {**env, "TOTEM_ORCHESTRATOR_URL": url, "TOTEM_TOKEN": token_value}
    return subprocess.run(
        [sys.executable, "-m", "totem_cli", *args], env=cli_env, capture_output=True, text=True, timeout=60
    )


def token(access, role: str, name: str | None = None) -> tuple[str, dict]:
    """(name, Authorization header) of a new token."""
    name = name or f"{role}-{uuid.uuid4().hex[:8]}"
    value, _ = access[0].create(name, role)
    return name, {"Authorization": f"Bearer {value}"}


def gated_app(recorder, write, sha: str, tid: str, approval: str) -> None:
    """The repo's totem.yml: one deployer, Slack and a webhook receiver, and `approval` (YAML lines)."""
    notifications = (
        "notifications:\n"
        f"  slack:\n    enabled: true\n    url: {recorder.url}/slack/{tid}\n"
        f"  webhook:\n    enabled: true\n    url: {recorder.url}/webhook/{tid}\n"
        "  github:\n    enabled: true\n"
    )
    write(sha, deployers_yaml(recorder, tid, "main", extra=notifications + approval))


def held_job(client, recorder, app_git, approval: str, **hook_extra) -> tuple[str, str, dict]:
    """A gated app's job whose builder hook passed: (job id, test id, the job), awaiting approval."""
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    gated_app(recorder, write, sha, tid, approval)
    answer = post_generic(client, generic_hook(owner, repo, "master", sha, **hook_extra))
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["job"]["id"]
    job = wait_job(client, job_id, states=("AWAITING_APPROVAL", *FINAL))
    assert job["state"] == "AWAITING_APPROVAL", job
    assert deploys(recorder, tid) == []
    return job_id, tid, job


def deploys(recorder: Recorder, tid: str) -> list[dict]:
    return recorder.received(f"/d/{tid}-main/apps", "POST")


def approval_links(recorder: Recorder, tid: str) -> dict[str, str]:
    """The approve/reject links of the Slack message that asked (its buttons), as paths with their query."""
    messages = wait(lambda: recorder.received(f"/slack/{tid}") or None, timeout=30)
    attachment = next(m["body"]["attachments"][0] for m in messages if m["body"]["attachments"][0].get("actions"))
    links = {button["text"].lower(): urlsplit(button["url"]) for button in attachment["actions"]}
    return {decision: f"{url.path}?{url.query}" for decision, url in links.items()}


def types(client, job_id: str) -> list[str]:
    return [event["type"] for event in client.get(f"/jobs/{job_id}").get_json()["events"]]


def test_a_gated_job_waits_after_its_hooks_and_deploys_once_when_a_named_token_approves(
    client, recorder, app_git, access
):
    approver, headers = token(access, "viewer")  # a token name admits it whatever its role
    job_id, tid, job = held_job(client, recorder, app_git, f"approval:\n  required: true\n  approvers: [{approver}]\n")
    assert job["approval"]["state"] == "waiting" and job["approval"]["policy"]["approvers"] == [approver]
    assert job["approval"]["commit"] == job["commit"] and job["approval"]["deadline"] > job["approval"]["requested"]
    assert types(client, job_id)[-2:] == ["HOOKS_PASSED", "APPROVAL_REQUESTED"]
    webhook = wait(lambda: recorder.received(f"/webhook/{tid}") or None, timeout=30)[-1]["body"]
    assert webhook["state"] == "AWAITING_APPROVAL" and webhook["approval"]["approvers"] == [approver]
    assert webhook["approval"]["approve-url"].startswith(
        f"http://orchestrator.localhost:9400/approvals/{job_id}/approve?"
    )
    statuses = f"/github/repos/{app_git[0]}/{app_git[1]}/statuses/"
    status = wait(lambda: recorder.received(statuses) or None, timeout=30)[-1]
    assert status["body"]["state"] == "pending" and b"/approvals/" not in status["raw"]  # a public page: no links

    answer = client.post(f"/jobs/{job_id}/approve", json={"comment": "ship it"}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["approval"]["decision"]["by"] == approver
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE", job
    assert len(deploys(recorder, tid)) == 1
    assert job["approval"]["state"] == "approved" and job["approval"]["decision"]["note"] == "ship it"
    again = client.post(f"/jobs/{job_id}/approve", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_awaiting_approval"
    record = access[1].query(actor=approver, action="approve", limit=5)[-1]
    assert record["status"] == 200 and record["details"]["decision"] == "approve"
    assert record["target"]["job"] == job_id and record["details"]["note"] == "ship it"
    assert len(deploys(recorder, tid)) == 1


def test_a_rejected_job_fails_and_never_deploys(client, recorder, app_git, access):
    name, headers = token(access, "deployer")
    job_id, tid, _ = held_job(client, recorder, app_git, "approval:\n  required: true\n  approvers: [deployer]\n")
    answer = client.post(f"/jobs/{job_id}/reject", json={"reason": "freeze week"}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    job = wait_job(client, job_id)
    assert job["state"] == "FAILED" and job["error"]["code"] == "approval_rejected", job
    assert "freeze week" in job["error"]["message"] and job["approval"]["state"] == "rejected"
    assert client.post(f"/jobs/{job_id}/approve", headers=headers).status_code == 409  # too late
    wait(lambda: "REJECTED" in types(client, job_id), timeout=10)
    assert deploys(recorder, tid) == []


def test_an_undecided_job_expires_by_itself_and_never_deploys(client, recorder, app_git, access):
    _, headers = token(access, "admin")
    policy = f"approval:\n  environments:\n    {ENV_NAME}:\n      required: true\n      timeout: 2s\n"
    job_id, tid, job = held_job(client, recorder, app_git, policy)  # required in this environment only
    assert job["approval"]["policy"]["timeout"] == "2s" and job["approval"]["policy"]["env"] == ENV_NAME
    job = wait_job(client, job_id)  # nobody calls the API: the beat's check expires it
    assert job["state"] == "FAILED" and job["error"]["code"] == "approval_expired", job
    assert "APPROVAL_EXPIRED" in types(client, job_id)
    late = client.post(f"/jobs/{job_id}/approve", headers=headers)
    assert late.status_code == 409
    assert deploys(recorder, tid) == []


def test_only_approvers_decide_and_never_their_own_push(client, recorder, app_git, access):
    author, author_headers = token(access, "deployer")
    _, viewer = token(access, "viewer")
    _, other = token(access, "deployer")
    policy = "approval:\n  required: true\n  approvers: [deployer]\n"
    job_id, tid, job = held_job(client, recorder, app_git, policy, sender=author)
    refused = client.post(f"/jobs/{job_id}/approve", headers=viewer)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_an_approver"
    own = client.post(f"/jobs/{job_id}/approve", headers=author_headers)
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "self_approval", own.get_json()
    assert client.post(f"/jobs/{job_id}/approve").status_code == 401
    assert client.get(f"/jobs/{job_id}").get_json()["approval"]["state"] == "waiting"
    denied = access[1].query(actor=author, action="approve", limit=5)[0]
    assert denied["outcome"] == "denied" and denied["details"]["trigger-actor"] == author
    assert client.post(f"/jobs/{job_id}/approve", headers=other).status_code == 200
    assert wait_job(client, job_id)["state"] == "COMPLETE"
    assert len(deploys(recorder, tid)) == 1


def test_the_signed_link_shows_a_form_on_get_and_decides_on_post(client, recorder, app_git, access):
    job_id, tid, _ = held_job(client, recorder, app_git, "approval:\n  required: true\n")
    links = approval_links(recorder, tid)
    assert set(links) == {"approve", "reject"} and links["approve"].startswith(f"/approvals/{job_id}/approve?")
    page = client.get(links["approve"])  # a chat app's preview fetch
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b'<form method="post"' in page.data and b"<button" in page.data
    assert client.get(f"/jobs/{job_id}").get_json()["state"] == "AWAITING_APPROVAL"
    tampered = links["approve"][:-4] + ("0000" if not links["approve"].endswith("0000") else "1111")
    assert client.get(tampered).status_code == 403
    forged = client.post(tampered)
    assert forged.status_code == 403 and forged.get_json()["error"]["code"] == "forbidden"
    swapped = client.post(links["reject"].replace("/reject?", "/approve?"))  # a reject signature, to approve
    assert swapped.status_code == 403
    assert client.get(f"/jobs/{job_id}").get_json()["approval"]["state"] == "waiting"

    decided = client.post(links["approve"], data={"note": "from slack"})
    assert decided.status_code == 200 and decided.mimetype == "text/html"
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE" and job["approval"]["decision"]["by"] == "signed-link", job
    assert len(deploys(recorder, tid)) == 1
    assert client.post(links["reject"]).status_code == 409  # decided: the other link changes nothing
    records = [r for r in access[1].query(actor="signed-link", limit=20) if r["target"].get("job") == job_id]
    assert {(r["actor-kind"], r["status"]) for r in records} >= {("link", 200), ("link", 403)}
    assert next(r for r in records if r["status"] == 200)["details"]["note"] == "from slack"


def test_a_newer_commit_replaces_the_commit_awaiting_approval(client, recorder, app_git, access):
    owner, repo, write = app_git
    _, headers = token(access, "admin")
    job_id, tid, first = held_job(client, recorder, app_git, "approval:\n  required: true\n")
    old_links = approval_links(recorder, tid)
    newer = commit()
    gated_app(recorder, write, newer, tid, "approval:\n  required: true\n")
    assert post_generic(client, generic_hook(owner, repo, "master", newer)).status_code == 202

    def held_again():
        job = client.get(f"/jobs/{job_id}").get_json()
        return job if job["commit"] == newer and job["state"] == "AWAITING_APPROVAL" else None

    job = wait(held_again, timeout=30)
    assert job["approval"]["commit"] == newer and "NEW_COMMIT" in types(client, job_id)
    assert client.get(old_links["approve"]).status_code == 409  # the old commit's link: nothing to decide
    assert client.post(old_links["approve"]).status_code == 409
    stale = client.post(f"/jobs/{job_id}/approve", json={"commit": first["commit"]}, headers=headers)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "not_awaiting_approval"
    assert client.get(f"/jobs/{job_id}").get_json()["approval"]["state"] == "waiting"
    assert client.post(f"/jobs/{job_id}/approve", json={"commit": newer}, headers=headers).status_code == 200
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE"
    sent = deploys(recorder, tid)
    assert len(sent) == 1 and sent[0]["body"]["meta-info"]["git"]["commit"] == newer != first["commit"]


def test_an_invalid_policy_fails_the_job_naming_the_field(client, recorder, app_git):
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    gated_app(recorder, write, sha, tid, "approval:\n  required: true\n  approvers: [Release Team]\n")
    job_id = post_generic(client, generic_hook(owner, repo, "master", sha)).get_json()["job"]["id"]
    job = wait_job(client, job_id)
    assert job["state"] == "FAILED" and job["error"]["message"].startswith("approval.approvers.0:"), job
    assert job["approval"] is None and deploys(recorder, tid) == []


def test_the_cli_lists_approves_and_rejects_over_http(client, recorder, app_git, access, env, served):
    deployer = access[0].create(f"cli-{uuid.uuid4().hex[:8]}", "deployer")[0]
    policy = "approval:\n  required: true\n  approvers: [deployer]\n"
    job_id, tid, _ = held_job(client, recorder, app_git, policy)
    listed = totem(env, served, deployer, "jobs", "--state", "AWAITING_APPROVAL", "--json")
    assert listed.returncode == 0, listed.stderr
    assert job_id in [job["id"] for job in json.loads(listed.stdout)]
    approved = totem(env, served, deployer, "approve", job_id, "--comment", "cli ok")
    assert approved.returncode == 0 and "approved" in approved.stdout, approved.stderr
    assert wait_job(client, job_id)["state"] == "COMPLETE" and len(deploys(recorder, tid)) == 1
    again = totem(env, served, deployer, "reject", job_id, "--reason", "too late")
    assert again.returncode != 0 and "not awaiting approval" in again.stderr

    other, other_tid, _ = held_job(client, recorder, app_git, policy)
    rejected = totem(env, served, deployer, "reject", other, "--reason", "not today", "--json")
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(rejected.stdout)["error"]["code"] == "approval_rejected"
    assert wait_job(client, other)["state"] == "FAILED" and deploys(recorder, other_tid) == []


def test_what_the_approval_routes_answer_fits_the_openapi_document(client, recorder, app_git, access):
    conforms = functools.partial(check_answer, client.application, document())
    _, viewer = token(access, "viewer")
    _, admin = token(access, "admin")
    job_id, tid, _ = held_job(client, recorder, app_git, "approval:\n  required: true\n")
    links = approval_links(recorder, tid)
    assert conforms(client.get(f"/jobs/{job_id}"))["approval"]["state"] == "waiting"
    assert conforms(client.post(f"/jobs/{job_id}/approve", json={"comment": 5}, headers=admin))  # 400
    assert conforms(client.post(f"/jobs/{job_id}/approve", data="x", headers=admin))  # 415
    assert conforms(client.post(f"/jobs/{job_id}/approve", headers=viewer))["error"]["code"] == "not_an_approver"
    assert conforms(client.post(f"/jobs/{job_id}/reject"))["error"]["code"] == "unauthorized"
    assert conforms(client.post(f"/jobs/{'f' * 32}/reject", headers=admin))["error"]["code"] == "not_found"
    conforms(client.get(links["reject"]))
    conforms(client.get(links["reject"] + "0"))  # 403 page
    assert conforms(client.post(links["reject"] + "0"))["error"]["code"] == "forbidden"
    assert conforms(client.post(links["reject"], json={"note": "via json"}))["state"] == "FAILED"
    conforms(client.get(links["approve"]))  # 409 page: decided
    assert conforms(client.post(f"/jobs/{job_id}/approve", headers=admin))["error"]["code"] == "not_awaiting_approval"
    assert deploys(recorder, tid) == []


def test_a_required_hook_failing_while_awaiting_approval_fails_the_job(client, recorder, app_git, access):
    owner, repo, _ = app_git
    job_id, tid, job = held_job(client, recorder, app_git, "approval:\n  required: true\n")
    failed = generic_hook(owner, repo, "master", job["commit"], status="failed")
    assert post_generic(client, failed).status_code == 202
    job = wait_job(client, job_id)
    assert job["state"] == "FAILED" and job["error"]["code"] == "hook_failed", job
    _, admin = token(access, "admin")
    assert client.post(f"/jobs/{job_id}/approve", headers=admin).status_code == 409
    assert deploys(recorder, tid) == []
