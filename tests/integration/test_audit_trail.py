"""The audit trail through the real services: the orchestrator (gunicorn + Celery worker) and the deployer
(gunicorn), on a Redis of the test's own (their queues meet no other suite's) and the shared etcd under
prefixes of their own.

A scripted run: a signed GitHub push (sender + delivery id) and the builder hook deploy through the
orchestrator; an admin issues a named token (POST /tokens); that token asks the deployer for a rollback
(refused: the deployment is still in progress, no deployer worker runs here) and an undeploy; a request
without a token is refused. GET /audit holds exactly one record per action, with its actor, target and
outcome; every service process is then killed and started again, and the same records come back, from
the API and from `totem audit --jsonl`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from tests.fixtures.deployer.harness import Process
from tests.private_redis import PrivateRedis
from tests.support import private_services_env
from tests.unit.test_orchestrator_payloads import commit, generic_hook, github_delivery, github_payload
from totem import signatures
from totem.api import gunicorn_conf
from totem.net import free_port
from totem.settings import Settings
from totem.store import connect
from totem.waiting import wait
from totem.workers import make_celery

BIN = Path(sys.executable).parent
RUN = uuid.uuid4().hex[:8]
BOOT = "audit-boot-" + uuid.uuid4().hex
SECRET = "audit-hook-secret-" + uuid.uuid4().hex
OWNER, NAME, REF = f"acme{RUN}", "shop", "master"
APP = f"{OWNER}-{NAME}-{REF}"  # the deployer's name of the branch (the built-in totem.yml's)
SENDER = f"dev-{RUN}"
TOKEN_NAME = f"release-bot-{RUN}"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


class Services:
    """The processes the test starts (each in its own session, stopped by its pid's group)."""

    def __init__(self, redis_url: str, work: Path):
        self.work = work
        self.root = f"/test-audit-{RUN}/"
        self.ports = {"orchestrator": free_port(), "deployer": free_port()}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.env = private_services_env(
            RUN,
            self.root,
            redis_url,
            BOOT,
            SECRET,
            work,
            TOTEM_ACCESS_PREFIX=f"test-audit-{RUN}:access",
            TOTEM_ENCRYPTION_KEY=Fernet.generate_key().decode(),
            TOTEM_ORCHESTRATOR_URL=self.urls["orchestrator"],
            TOTEM_DEPLOYER_URL=self.urls["deployer"],
            TOTEM_DEPLOY_ATTEMPTS="3",
            TOTEM_DEPLOY_BACKOFF="0.2",
            PYTHONUNBUFFERED="1",
        )
        self.env.pop("TOTEM_TOKEN", None)
        self.processes: dict[str, Process] = {}

    def start(self) -> Services:
        for name in ("orchestrator", "deployer"):
            argv = gunicorn_conf.command(name, f"127.0.0.1:{self.ports[name]}", "-w", "1", "--graceful-timeout", "2")
            self.processes[name] = Process(argv, self.env, self.work / f"{name}.log").start()
        worker = [sys.executable, "-m", "celery", "-A", "orchestrator.worker", "worker", "-Q", "orchestrator"]
        worker += ["-P", "threads", "-c", "2", "-n", f"audit-{RUN}@%h", "--without-gossip", "--without-mingle"]
        self.processes["worker"] = Process(worker, self.env, self.work / "worker.log").start()
        for name, url in self.urls.items():
            wait(lambda url=url: _answers(url + "/health"), 60, 0.2, what=f"{name} answering\n{self.logs()}")
        celery = make_celery("orchestrator", Settings.from_env(self.env))
        wait(lambda: self._pong(celery), 60, 0.2, what=f"the orchestrator worker\n{self.logs()}")
        return self

    @staticmethod
    def _pong(celery) -> bool:
        try:
            return celery.send_task("orchestrator.ping", queue="orchestrator").get(timeout=1) == "pong"
        except Exception:  # not consuming yet
            return False

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()  # SIGKILL to the pid's process group: nothing flushed on the way out
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.work.glob("*.log")))


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    redis_server = PrivateRedis(tmp_path_factory.mktemp("redis")).start()
    stack = Services(redis_server.url(), tmp_path_factory.mktemp("services"))
    try:
        yield stack.start()
    finally:
        stack.stop()
        connect(Settings.from_env(stack.env).etcd_url).delete_prefix(stack.root)
        redis_server.stop()


def audit(services, token: str = BOOT, **params) -> list[dict]:
    response = requests.get(
        services.urls["orchestrator"] + "/audit",
        params={"limit": 1000, **params},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["records"]


def deployer(services, method: str, path: str, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, services.urls["deployer"] + path, headers=headers, json={}, timeout=10)


def signed_push(services, sha: str, delivery: str) -> requests.Response:
    body = github_payload("push", owner=OWNER, repo=NAME, ref=REF, sha=sha)
    body["sender"]["login"] = SENDER  # the one who pushed, not the repository's owner
    raw, headers = github_delivery(SECRET, body, "push", delivery=delivery)
    return requests.post(services.urls["orchestrator"] + "/hooks/github", data=raw, headers=headers, timeout=10)


def builder_hook(services, sha: str) -> requests.Response:
    raw = json.dumps(generic_hook(OWNER, NAME, REF, sha)).encode()
    headers = {"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(SECRET, raw)}
    return requests.post(services.urls["orchestrator"] + "/hooks/generic", data=raw, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def scripted(services):
    """Run the actions once; what the test expects of the trail."""
    sha, delivery = commit(), str(uuid.uuid4())
    push = signed_push(services, sha, delivery)
    assert push.status_code == 202, push.text
    job_id = push.json()["job"]["id"]
    assert builder_hook(services, sha).status_code == 202

    def finished():
        job = requests.get(f"{services.urls['orchestrator']}/jobs/{job_id}", timeout=10).json()
        return job if job["state"] in ("COMPLETE", "FAILED") else None

    job = wait(finished, 60, 0.2, what=f"job {job_id} finished\n{services.logs()}")
    assert job["state"] == "COMPLETE", job

    created = requests.post(
        services.urls["orchestrator"] + "/tokens",
        json={"name": TOKEN_NAME, "role": "deployer", "scopes": [f"{OWNER}/*"]},
        headers={"Authorization": f"Bearer {BOOT}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    named = created.json()["token"]
    rollback = deployer(services, "POST", f"/apps/{APP}/rollback", named)
    assert rollback.status_code == 409 and rollback.json()["error"]["code"] == "deployment_in_progress"
    undeploy = deployer(services, "DELETE", f"/apps/{APP}", named)
    assert undeploy.status_code == 202, undeploy.text
    assert deployer(services, "POST", f"/apps/{APP}/rollback").status_code == 401
    return {"job": job_id, "delivery": delivery, "token": named}


def test_each_action_has_exactly_one_record_with_its_actor_target_and_outcome(services, scripted):
    records = audit(services)
    shown = [(r["action"], r["actor"], r["actor-kind"], r["outcome"], r["status"]) for r in records]
    assert shown == [  # newest first
        ("rollback", "anonymous", "none", "denied", 401),
        ("undeploy", TOKEN_NAME, "token", "ok", 202),
        ("rollback", TOKEN_NAME, "token", "refused", 409),
        ("tokens", "bootstrap", "bootstrap", "ok", 201),
        ("deploy", SENDER, "hook", "ok", 202),
    ]
    deploy = records[-1]  # the deployer's record; the orchestrator wrote none of its own
    assert deploy["target"] == {"app": APP, "owner": OWNER, "repo": NAME, "ref": REF}
    details = deploy["details"]
    assert details["via"] == "bootstrap"  # the orchestrator acted for the hook's sender
    assert (details["delivery"], details["job"], details["hook"]) == (scripted["delivery"], scripted["job"], "scm-push")
    assert details["receiver"] == "github" and details["source"] == "127.0.0.1"
    assert records[3]["target"] == {"token": TOKEN_NAME}
    for record in records[:3]:
        assert record["target"]["app"] == APP and record["source"] == "127.0.0.1"
    assert records[1]["target"] == {"app": APP, "owner": OWNER, "repo": NAME, "ref": REF}
    raw = json.dumps(records)
    assert scripted["token"] not in raw and BOOT not in raw


def test_the_filters_find_both_services_names_of_the_app(services, scripted):
    everything = audit(services)
    for name in (APP, f"{OWNER}/{NAME}", f"{OWNER}/{NAME}/{REF}"):
        found = [r["id"] for r in audit(services, app=name)]
        assert set(found) <= {r["id"] for r in everything} and found
    assert [r["action"] for r in audit(services, actor=SENDER)] == ["deploy"]
    assert [r["actor"] for r in audit(services, action="rollback")] == ["anonymous", TOKEN_NAME]
    scoped = audit(services, token=scripted["token"])  # scoped to acme<run>/*: the token record is not its
    assert [r["action"] for r in scoped] == ["undeploy", "rollback", "deploy"]  # those naming its repos


def test_the_records_outlive_a_restart_of_every_service_and_the_cli_exports_them(services, scripted):
    before = audit(services)
    services.stop()
    services.start()
    assert audit(services) == before
    trimmed = make_celery("orchestrator", Settings.from_env(services.env)).send_task(
        "orchestrator.trim_audit", queue="orchestrator"
    )
    assert trimmed.get(timeout=60) == 0  # the retention (365 days) keeps them all
    assert audit(services) == before

    cli = subprocess.run(
        [str(BIN / "totem"), "audit", "--jsonl", "--limit", "1000"],
        env=services.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert [json.loads(line) for line in cli.stdout.splitlines()] == list(reversed(before))
    table = subprocess.run(
        [str(BIN / "totem"), "audit", "--app", f"{OWNER}/{NAME}", "--action", "deploy"],
        env=services.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["TIME", "(UTC)", "ACTOR", "ACTION", "TARGET", "OUTCOME"]
    assert SENDER in row and " deploy " in row and APP in row and "ok 202" in row
