"""The orchestrator end to end on the real stack: hooks → jobs → config → deploy requests and notices.

One Celery worker subprocess (threads pool) and one local HTTP server that plays every deployer,
Slack, GitHub's status API and a generic webhook receiver. Each test uses its own owner/repo.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import hypothesis
import pytest
import requests
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from orchestrator.runtime import Runtime
from orchestrator.settings import OrchestratorSettings
from tests.support import orchestrator_worker, send_json, serve_http, terminate
from tests.unit.test_orchestrator_payloads import (
    TravisKey,
    commit,
    generic_hook,
    github_delivery,
    github_headers,
    github_payload,
    payload,
)
from totem import signatures, signed_post
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA
from totem.net import free_port
from totem.settings import Settings
from totem.waiting import wait

BIN = Path(sys.executable).parent
SECRET, TOKEN = "orch-test-secret", "orch-test-token"
RUN = uuid.uuid4().hex[:10]
FINAL = ("COMPLETE", "FAILED", "NOOP")


class Recorder:
    """A threaded HTTP server on loopback that records every request and answers from a script."""

    def __init__(self):
        self.requests: list[dict] = []
        self.scripts: dict[str, list[tuple[int, dict]]] = {}
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with recorder.lock:
                    recorder.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "body": body,
                            "raw": raw,
                            "headers": dict(self.headers),
                        }
                    )
                    script = next((s for p, s in recorder.scripts.items() if self.path.startswith(p) and s), None)
                    status, answer = script.pop(0) if script else (201, {"ok": True})
                send_json(self, status, answer)

            do_POST = do_DELETE = do_GET = do_PUT = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Recorder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self, prefix: str, method: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"].startswith(prefix) and method in (None, r["method"])]


@pytest.fixture(scope="module")
def recorder():
    server = Recorder().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def travis_key():
    return TravisKey()


@pytest.fixture(scope="module")
def env(recorder, travis_key, tmp_path_factory):
    configs = tmp_path_factory.mktemp("repo-configs")
    return {
        **os.environ,
        "TOTEM_REDIS_URL": "redis://127.0.0.1:6379/11",
        "TOTEM_ENV": f"t{RUN}",
        "TOTEM_CLUSTER": "local",
        "TOTEM_HOOK_SECRET": SECRET,
        "TOTEM_API_TOKEN": TOKEN,
        "TOTEM_INSECURE_DEV": "0",
        "TOTEM_ORCHESTRATOR_PREFIX": f"totem:orchtest:{RUN}",
        "TOTEM_CONFIG_PROVIDERS": "repo,etcd,default",
        "TOTEM_REPO_CONFIG_URL": f"file://{configs}/{{owner}}/{{repo}}/{{commit}}/totem.yml",
        "TOTEM_CONFIG_ETCD_PREFIX": f"/test-{RUN}/config",
        "TOTEM_DEPLOYER_URL": f"{recorder.url}/d/default",
        "TOTEM_GITHUB_API_URL": f"{recorder.url}/github",
        "TOTEM_GITHUB_TOKEN": "gh-test-token",
        "TOTEM_TRAVIS_PUBLIC_KEY": travis_key.public_pem,
        "TOTEM_DEPLOY_ATTEMPTS": "3",
        "TOTEM_DEPLOY_BACKOFF": "0.05",
        "TOTEM_ORCHESTRATOR_URL": "http://orchestrator.localhost:9400",
        "TOTEM_LOG_FORMAT": "kv",
    }


@pytest.fixture(scope="module")
def runtime(env):
    rt = Runtime.create(Settings.from_env(env), OrchestratorSettings.from_env(env))
    yield rt
    for pattern in (f"{rt.options.redis_prefix}:*", "totem:orchestrator:delivery:*", "celery-task-meta-*"):
        for key in rt.redis.scan_iter(pattern, count=1000):
            rt.redis.delete(key)
    rt.store.delete_prefix(f"/test-{RUN}/")


@pytest.fixture(scope="module")
def worker(env, runtime, tmp_path_factory):
    with orchestrator_worker(runtime, env, tmp_path_factory.mktemp("worker"), 8) as process:
        yield process


@pytest.fixture(scope="module")
def client(env, worker):
    from orchestrator.app import create_app

    app = create_app(Settings.from_env(env), OrchestratorSettings.from_env(env))
    return app.test_client()


@pytest.fixture
def app_git(env):
    """A unique owner/repo per test, and a way to write the repository's totem.yml at a commit."""
    owner, repo = f"acme{uuid.uuid4().hex[:8]}", f"shop-{uuid.uuid4().hex[:6]}"
    root = Path(env["TOTEM_REPO_CONFIG_URL"][len("file://") :].split("{owner}")[0])

    def write(sha: str, text: str) -> None:
        path = root / owner / repo / sha / "totem.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return owner, repo, write


def deployers_yaml(recorder, tid: str, *names: str, ci: str | None = None, extra: str = "") -> str:
    lines = ["deployers:", "  default:", "    enabled: false"]
    for name in names:
        lines += [f"  {name}:", "    enabled: true", f"    url: {recorder.url}/d/{tid}-{name}"]
    if ci:
        lines += ["hooks:", "  ci:", f"    {ci}:", "      enabled: true"]
    return "\n".join(lines) + "\n" + extra


def post_generic(client, hook: dict, secret: str = SECRET):
    body = json.dumps(hook).encode()
    return client.post(
        "/hooks/generic",
        data=body,
        headers={"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(secret, body)},
    )


def post_github(client, event: str, body: dict, delivery: str | None = None):
    raw = json.dumps(body).encode()
    return client.post("/hooks/github", data=raw, headers=github_headers(SECRET, raw, event, delivery))


def post_travis(client, key: TravisKey, owner, repo, ref, sha, message="Passed"):
    text = json.dumps(payload("travis-payload", owner=owner, repo=repo, ref=ref, sha=sha, status_message=message))
    return client.post("/hooks/travis", data={"payload": text}, headers={"Signature": key.sign(text)})


def wait_job(client, job_id: str, states=FINAL, timeout: float = 30) -> dict:
    def done():
        job = client.get(f"/jobs/{job_id}").get_json()
        return job if job.get("state") in states else None

    return wait(done, timeout=timeout, interval=0.1)


def current_job(client, owner, repo, ref="master") -> dict | None:
    jobs = client.get(f"/jobs?owner={owner}&repo={repo}&ref={ref}").get_json()["jobs"]
    return jobs[0] if jobs else None


def event_types(job: dict) -> list[str]:
    return [event["type"] for event in job["events"]]


# -- hooks → deploy -----------------------------------------------------------------------------


def test_builder_and_travis_hooks_deploy_once_to_every_enabled_deployer(client, recorder, app_git, travis_key):
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(
        sha,
        deployers_yaml(
            recorder,
            tid,
            "east",
            "west",
            ci="travis",
            extra="environment:\n  DB_PASSWORD:\n    value: c2VjcmV0\n    encrypted: true\n",
        ),
    )
    answer = post_generic(client, generic_hook(owner, repo, "master", sha))
    assert answer.status_code == 202
    job_id = answer.get_json()["job"]["id"]
    assert answer.headers["Location"] == f"/jobs/{job_id}"
    wait_job(client, job_id, states=("SCHEDULED",))
    assert recorder.received(f"/d/{tid}") == []
    travis = post_travis(client, travis_key, owner, repo, "master", sha)
    assert travis.status_code == 202 and travis.get_json()["job"]["id"] == job_id

    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE", job
    for name in ("east", "west"):
        sent = recorder.received(f"/d/{tid}-{name}/apps")
        assert len(sent) == 1 and sent[0]["method"] == "POST"
        request = sent[0]["body"]
        assert sent[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert list(Draft202012Validator(DEPLOY_REQUEST_SCHEMA).iter_errors(request)) == []
        assert request["templates"]["app"]["args"]["image"] == f"127.0.0.1:5000/{owner}-{repo}:{sha}"
        assert request["meta-info"]["git"]["commit"] == sha and request["meta-info"]["deployer"] == name
        assert request["environment"]["DB_PASSWORD"] == {"value": "c2VjcmV0", "encrypted": True}
    assert job["hooks"]["ci:travis"]["status"] == "success"
    assert job["config"]["environment"]["DB_PASSWORD"]["value"] == "***"
    types = event_types(job)
    assert types[0] == "NEW_JOB" and types.count("DEPLOY_REQUESTED") == 2 and types[-1] == "JOB_COMPLETE"
    assert all(set(e) == {"date", "type", "component", "meta-info", "details"} for e in job["events"])


def test_github_push_and_actions_workflow_run_deploy(client, recorder, app_git):
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    levels = (
        f"notifications:\n  slack:\n    enabled: true\n    level: failed\n    url: {recorder.url}/slack/{tid}\n"
        "  github:\n    enabled: true\n    level: success\n"
    )
    write(sha, deployers_yaml(recorder, tid, "main", ci="CI", extra=levels))
    ping = post_github(client, "ping", payload("github-ping", owner=owner, repo=repo))
    assert ping.status_code == 200 and ping.get_json()["status"] == "pong"
    push = payload("github-push", owner=owner, repo=repo, ref="master", sha=sha)
    first = post_github(client, "push", push, delivery="same-delivery-" + tid)
    assert first.status_code == 202
    again = post_github(client, "push", push, delivery="same-delivery-" + tid)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    job_id = first.get_json()["job"]["id"]
    assert post_generic(client, generic_hook(owner, repo, "master", sha)).status_code == 202
    wait_job(client, job_id, states=("SCHEDULED",))
    run = payload(
        "github-workflow_run", owner=owner, repo=repo, ref="master", sha=sha, workflow="CI", conclusion="success"
    )
    assert post_github(client, "workflow_run", run).status_code == 202
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE"
    assert len(recorder.received(f"/d/{tid}-main/apps")) == 1
    assert set(job["hooks"]) == {"scm-push:github", "builder:image-factory", "ci:CI"}
    statuses = wait(lambda: recorder.received(f"/github/repos/{owner}/{repo}/statuses/{sha}"), timeout=10)
    assert [s["body"]["state"] for s in statuses] == ["success"]  # level success: no started/pending notices
    assert statuses[0]["body"]["target_url"] == f"http://orchestrator.localhost:9400/jobs/{job_id}"
    assert recorder.received(f"/slack/{tid}") == []  # level failed: failures only


def test_lost_task_is_recovered_by_the_sweep(client, recorder, app_git, runtime):
    from orchestrator.jobs.model import Hook, apply_hook
    from orchestrator.jobs.store import JobStore
    from orchestrator.jobs.sweep import sweep

    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(sha, deployers_yaml(recorder, tid, "main"))
    hook = Hook(owner, repo, "master", sha, "builder", "image-factory", "success", {"image": "img:1"})
    outcome = JobStore(runtime).update_current(hook.app, lambda job: apply_hook(job, hook))  # persisted, never queued
    assert outcome.job_id in sweep(runtime, idle=0)
    assert wait_job(client, outcome.job_id)["state"] == "COMPLETE"
    assert recorder.received(f"/d/{tid}-main/apps")[0]["body"]["templates"]["app"]["args"]["image"] == "img:1"


# -- missing hooks (orchestrator/jobs/missing.py) ------------------------------------------------


class ImageFactory:
    """The image factory's builds API as its /openapi.json documents it (GET /builds filtered and
    newest first, POST /builds with the bearer token), over builds the test sets; every request kept."""

    def __init__(self):
        self.builds: list[dict] = []  # newest last
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                send_json(self, status, body)

            def do_GET(self):  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append({"method": "GET", "path": url.path, "query": query})
                limit = int(query.get("limit", "20"))
                filters = {k: v for k, v in query.items() if k != "limit"}
                found = [b for b in reversed(fake.builds) if all(b.get(k) == v for k, v in filters.items())]
                self._answer(200, {"builds": found[:limit], "offset": 0, "limit": limit, "next_offset": None})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"method": "POST", "path": self.path, "body": body, "headers": dict(self.headers)})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"error": {"code": "unauthorized", "message": "bad token", "details": {}}})
                self._answer(202, {"status": "queued", "build": fake.add(body, "queued")})

            def log_message(self, *args):
                pass

        self.handler = Handler

    def add(self, git: dict, status: str, **fields) -> dict:
        build = {
            **{k: git[k] for k in ("owner", "repo", "ref", "commit")},
            "id": uuid.uuid4().hex,
            "status": status,
            "trigger": "api",
            "image": None,
            "images": [],
            "error": None,
            "steps": [],
            **fields,
        }
        self.builds.append(build)
        return build


@pytest.fixture
def image_factory():
    fake = ImageFactory()
    with serve_http(fake.handler) as url:
        fake.url = url
        yield fake


def checking(runtime: Runtime, image_factory: ImageFactory, **options) -> Runtime:
    """The runtime with the fake image factory and quick missing-hook settings (e.g. hook_grace=0)."""
    settings = dataclasses.replace(runtime.settings, image_factory_url=image_factory.url)
    return Runtime(settings, dataclasses.replace(runtime.options, **options), runtime.redis)


def scheduled_by_push(client, owner: str, repo: str, sha: str) -> str:
    """A job made by a GitHub push alone (no build, so no builder hook), waiting in SCHEDULED."""
    push = payload("github-push", owner=owner, repo=repo, ref="master", sha=sha)
    job_id = post_github(client, "push", push).get_json()["job"]["id"]
    wait_job(client, job_id, states=("SCHEDULED",))
    return job_id


def test_a_missing_builder_hook_is_asked_of_the_image_factory_built_and_recovered(
    client, recorder, app_git, runtime, image_factory
):
    from orchestrator.jobs.missing import check

    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(sha, deployers_yaml(recorder, tid, "main"))
    job_id = scheduled_by_push(client, owner, repo, sha)
    git = {"owner": owner, "repo": repo, "ref": "master", "commit": sha}
    assert job_id not in check(checking(runtime, image_factory, hook_grace=3600))  # not late yet
    fast = checking(runtime, image_factory, hook_grace=0)
    assert job_id in check(fast)
    asked = [r for r in image_factory.requests if r.get("query", r.get("body", {})).get("commit") == sha]
    assert [(r["method"], r["path"]) for r in asked] == [("GET", "/builds"), ("POST", "/builds")]
    assert asked[0]["query"] == {**git, "limit": "1"} and asked[1]["body"] == git
    build = next(b for b in image_factory.builds if b["commit"] == sha)
    assert build["status"] == "queued"
    assert job_id not in check(fast)  # nothing new learnt: no second request, no second event
    job = client.get(f"/jobs/{job_id}").get_json()
    assert job["state"] == "SCHEDULED" and event_types(job)[-2:] == ["HOOK_MISSING", "BUILD_REQUESTED"]
    assert job["events"][-2]["details"] == {
        "hook": "builder:image-factory",
        "waited-s": job["events"][-2]["details"]["waited-s"],
        "build": build["id"],
        "build-status": "queued",
    }
    assert len([r for r in image_factory.requests if r["method"] == "POST" and r["body"]["commit"] == sha]) == 1

    image = f"127.0.0.1:5000/{owner}-{repo}:{sha}"
    build.update(status="succeeded", image=image, images=[image])  # built, but its hook was lost
    assert job_id in check(fast)
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE", job
    assert job["hooks"]["builder:image-factory"]["source"] == "recovered"
    assert "HOOK_RECOVERED" in event_types(job)
    assert recorder.received(f"/d/{tid}-main/apps")[0]["body"]["templates"]["app"]["args"]["image"] == image
    late = generic_hook(owner, repo, "master", sha, result={"build": build["id"], "image": image, "images": [image]})
    post_generic(client, late)  # the lost hook arrives after all: a repeat, it changes nothing
    assert event_types(client.get(f"/jobs/{job_id}").get_json()) == event_types(job)


def test_a_build_that_failed_only_delivering_its_hook_is_built_again(client, recorder, app_git, runtime, image_factory):
    from orchestrator.jobs.missing import check

    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(sha, deployers_yaml(recorder, tid, "main"))
    job_id = scheduled_by_push(client, owner, repo, sha)
    git = {"owner": owner, "repo": repo, "ref": "master", "commit": sha}
    steps = [{"name": "build", "status": "succeeded"}, {"name": "hook", "status": "failed"}]
    lost = image_factory.add(
        git, "failed", error="hook: builder hook to http://o/hooks/generic answered 503", steps=steps
    )
    assert job_id in check(checking(runtime, image_factory, hook_grace=0))
    posted = [r["body"] for r in image_factory.requests if r["method"] == "POST" and r["body"]["commit"] == sha]
    assert posted == [git]  # rebuilt: the image factory sends the hook again
    job = client.get(f"/jobs/{job_id}").get_json()
    assert job["state"] == "SCHEDULED" and event_types(job)[-1] == "BUILD_REQUESTED"
    assert job["events"][-1]["details"]["build"] != lost["id"]


def test_a_failed_build_fails_the_job_and_a_hook_missing_at_the_deadline_fails_it_naming_the_hook(
    client, recorder, app_git, runtime, image_factory
):
    from orchestrator.jobs.missing import check

    owner, repo, write = app_git
    broken, untested, tid = commit(), commit(), uuid.uuid4().hex[:8]
    write(broken, deployers_yaml(recorder, tid, "main"))
    job_id = scheduled_by_push(client, owner, repo, broken)
    git = {"owner": owner, "repo": repo, "ref": "master", "commit": broken}
    image_factory.add(git, "failed", error="build: exit code 3", steps=[{"name": "build", "status": "failed"}])
    assert job_id in check(checking(runtime, image_factory, hook_grace=0))
    job = wait_job(client, job_id)
    assert job["state"] == "FAILED" and job["error"]["code"] == "hook_failed", job
    assert job["hooks"]["builder:image-factory"]["result"]["error"] == "build: exit code 3"
    posted = [r for r in image_factory.requests if r["method"] == "POST" and r["body"]["commit"] == broken]
    assert posted == []  # a real failure is not rebuilt

    write(untested, deployers_yaml(recorder, tid, "main", ci="never"))  # a CI that never reports
    job_id = post_generic(client, generic_hook(owner, repo, "master", untested)).get_json()["job"]["id"]
    wait_job(client, job_id, states=("SCHEDULED",))
    assert job_id not in check(checking(runtime, image_factory, hook_deadline=3600))
    assert job_id in check(checking(runtime, image_factory, hook_deadline=0))
    job = client.get(f"/jobs/{job_id}").get_json()
    assert job["state"] == "FAILED" and job["error"]["code"] == "hook_missing"
    assert job["error"]["message"].startswith("no ci:never hook ")
    assert event_types(job)[-2:] == ["HOOK_TIMEOUT", "JOB_FAILED"]
    assert job["events"][-1]["details"]["reason"] == job["error"]["message"]
    assert recorder.received(f"/d/{tid}-main/apps") == []


def test_superseded_commit_never_deploys(client, recorder, app_git):
    owner, repo, write = app_git
    old, new, tid = commit(), commit(), uuid.uuid4().hex[:8]
    for sha in (old, new):
        write(sha, deployers_yaml(recorder, tid, "main", ci="travis"))
    job_id = post_generic(client, generic_hook(owner, repo, "master", old)).get_json()["job"]["id"]
    assert post_generic(client, generic_hook(owner, repo, "master", new)).get_json()["job"]["id"] == job_id
    late = post_generic(client, generic_hook(owner, repo, "master", old, "ci", "travis"))
    assert late.status_code == 200 and late.get_json()["status"] == "ignored"
    wait_job(client, job_id, states=("SCHEDULED",))
    assert post_generic(client, generic_hook(owner, repo, "master", new, "ci", "travis")).status_code == 202
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE" and job["commit"] == new and job["commits"] == [old, new]
    sent = recorder.received(f"/d/{tid}-main/apps")
    assert [r["body"]["meta-info"]["git"]["commit"] for r in sent] == [new]
    assert "COMMIT_IGNORED" in event_types(job)


def post_real(client, event: str, body: dict, form: bool, delivery: str | None = None):
    raw, headers = github_delivery(SECRET, body, event, form=form, delivery=delivery)
    return client.post("/hooks/github", data=raw, headers=headers)


def documented_schema(client, name: str) -> Draft202012Validator:
    spec = client.get("/openapi.json").get_json()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


@pytest.mark.parametrize("push_form, run_form", [(True, False), (False, True)], ids=["form-push", "form-run"])
def test_real_github_deliveries_json_or_form_encoded_deploy(client, recorder, app_git, push_form, run_form):
    """GitHub's own payload shapes (tests/fixtures/github): a push, and a completed run whose
    `workflow_run.name` is empty, so the required CI hook is named after `workflow.name`."""
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(sha, deployers_yaml(recorder, tid, "main", ci="CI"))
    values = {"owner": owner, "repo": repo, "ref": "master", "sha": sha}
    pushed = post_real(client, "push", github_payload("push", **values), push_form)
    assert pushed.status_code == 202, pushed.get_json()
    job_id = pushed.get_json()["job"]["id"]
    assert post_generic(client, generic_hook(owner, repo, "master", sha)).status_code == 202
    wait_job(client, job_id, states=("SCHEDULED",))
    run = github_payload("workflow_run-completed", **values, workflow="CI", conclusion="success")
    assert run["workflow_run"]["name"] == ""
    delivery = str(uuid.uuid4())
    answer = post_real(client, "workflow_run", run, run_form, delivery)
    assert answer.status_code == 202 and answer.get_json()["hook"] == "ci:CI"
    again = post_real(client, "workflow_run", run, not run_form, delivery)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    job = wait_job(client, job_id)
    assert job["state"] == "COMPLETE", job
    assert set(job["hooks"]) == {"scm-push:github", "builder:image-factory", "ci:CI"}
    assert len(recorder.received(f"/d/{tid}-main/apps")) == 1
    errors = [e.message for e in documented_schema(client, "Job").iter_errors(job)]
    assert errors == [], errors


def test_failed_ci_hook_fails_the_job_and_notifies(client, recorder, app_git):
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    # levels as the legacy numbers (1 failed, 3 success), which still work
    notifications = (
        f"notifications:\n  slack:\n    enabled: true\n    level: 1\n    url: {recorder.url}/slack/{tid}\n"
        f"  github:\n    enabled: true\n    level: 3\n"
        f"  webhook:\n    enabled: true\n    level: 1\n    url: {recorder.url}/webhook/{tid}\n"
    )
    write(sha, deployers_yaml(recorder, tid, "main", ci="travis", extra=notifications))
    job_id = post_generic(client, generic_hook(owner, repo, "master", sha)).get_json()["job"]["id"]
    post_generic(client, generic_hook(owner, repo, "master", sha, "ci", "travis", "failed"))
    job = wait_job(client, job_id)
    assert job["state"] == "FAILED" and "ci:travis" in job["error"]["message"]
    assert recorder.received(f"/d/{tid}") == []
    slack = wait(lambda: recorder.received(f"/slack/{tid}"), timeout=10)
    attachment = slack[0]["body"]["attachments"][0]
    assert attachment["color"] == "danger" and attachment["title_link"].endswith(f"/jobs/{job_id}")
    statuses = wait(lambda: recorder.received(f"/github/repos/{owner}/{repo}/statuses/{sha}"), timeout=10)
    assert statuses[-1]["body"]["state"] == "failure"
    assert statuses[-1]["body"]["context"].endswith("::Orchestrator")
    assert statuses[-1]["headers"]["Authorization"] == "Bearer gh-test-token"
    webhook = wait(lambda: recorder.received(f"/webhook/{tid}"), timeout=10)
    assert signatures.verify(SECRET, webhook[0]["raw"], webhook[0]["headers"]["X-Hook-Signature"])
    assert webhook[0]["body"]["status"] == "failed" and webhook[0]["body"]["job-id"] == job_id


def test_invalid_totem_yml_fails_with_the_key_path(client, recorder, app_git):
    owner, repo, write = app_git
    sha = commit()
    write(sha, "deployers:\n  default:\n    deployment:\n      nodes: 40\n")
    job_id = post_generic(client, generic_hook(owner, repo, "master", sha)).get_json()["job"]["id"]
    job = wait_job(client, job_id)
    assert job["state"] == "FAILED"
    assert job["error"]["errors"][0]["path"] == "deployers.default.deployment.nodes"
    assert "deployers.default.deployment.nodes" in job["error"]["message"]
    assert "CONFIG_INVALID" in event_types(job)


def test_deployer_errors_are_retried_and_rejections_fail_the_job(client, recorder, app_git):
    owner, repo, write = app_git
    flaky, refusing = commit(), commit()
    tid = uuid.uuid4().hex[:8]
    recorder.scripts[f"/d/{tid}-flaky/apps"] = [(503, {"error": "busy"}), (502, {}), (201, {"id": "dep-1"})]
    recorder.scripts[f"/d/{tid}-refusing/apps"] = [(400, {"error": {"code": "bad", "message": "no such image"}})]
    write(flaky, deployers_yaml(recorder, tid, "flaky"))
    job = wait_job(client, post_generic(client, generic_hook(owner, repo, "master", flaky)).get_json()["job"]["id"])
    assert job["state"] == "COMPLETE" and job["deploy"]["deployers"]["flaky"]["attempts"] == 3
    write(refusing, deployers_yaml(recorder, tid, "refusing"))
    job = wait_job(client, post_generic(client, generic_hook(owner, repo, "master", refusing)).get_json()["job"]["id"])
    assert job["state"] == "FAILED" and job["error"]["code"] == "deploy_rejected"
    assert job["error"]["details"]["refusing"]["response"]["error"]["message"] == "no such image"
    assert len(recorder.received(f"/d/{tid}-refusing/apps")) == 1


def test_disabled_app_and_no_deployers_are_noop(client, recorder, app_git):
    owner, repo, write = app_git
    disabled, nowhere = commit(), commit()
    write(disabled, "enabled: false\n")
    job = wait_job(client, post_generic(client, generic_hook(owner, repo, "master", disabled)).get_json()["job"]["id"])
    assert job["state"] == "NOOP" and job["reason"] == "app is disabled"
    write(nowhere, "deployers:\n  default:\n    enabled: false\n")
    job = wait_job(client, post_generic(client, generic_hook(owner, repo, "master", nowhere)).get_json()["job"]["id"])
    assert job["state"] == "NOOP" and job["reason"] == "no enabled deployers"


def test_deleted_branch_is_undeployed_and_frozen_until_created_again(client, recorder, app_git):
    owner, repo, write = app_git
    first, late, revived = commit(), commit(), commit()
    tid, ref = uuid.uuid4().hex[:8], f"feature/x-{uuid.uuid4().hex[:4]}"
    for sha in (first, late, revived):
        write(sha, deployers_yaml(recorder, tid, "main"))
    job = wait_job(client, post_generic(client, generic_hook(owner, repo, ref, first)).get_json()["job"]["id"])
    assert job["state"] == "COMPLETE"
    name = job["config"]["deployers"]["main"]["deployment"]["name"]
    deleted = post_github(client, "delete", payload("github-delete", owner=owner, repo=repo, ref=ref))
    assert deleted.status_code == 202
    undeploys = wait(lambda: recorder.received(f"/d/{tid}-main/apps/{name}", "DELETE"), timeout=10)
    assert undeploys[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    frozen = wait_job(client, post_generic(client, generic_hook(owner, repo, ref, late)).get_json()["job"]["id"])
    assert frozen["state"] == "NOOP" and "frozen" in frozen["reason"]
    created = post_github(client, "create", payload("github-create", owner=owner, repo=repo, ref=ref))
    assert created.status_code == 202
    job = wait_job(client, post_generic(client, generic_hook(owner, repo, ref, revived)).get_json()["job"]["id"])
    assert job["state"] == "COMPLETE"
    assert len(recorder.received(f"/d/{tid}-main/apps", "POST")) == 2


# -- API ------------------------------------------------------------------------------------------


def test_jobs_events_and_undeploy_api(client, recorder, app_git):
    owner, repo, write = app_git
    tid = uuid.uuid4().hex[:8]
    ids = []
    for ref in ("a", "b", "c"):
        sha = commit()
        write(sha, deployers_yaml(recorder, tid, "main"))
        ids.append(post_generic(client, generic_hook(owner, repo, ref, sha)).get_json()["job"]["id"])
    for job_id in ids:
        wait_job(client, job_id)
    page = client.get(f"/jobs?owner={owner}&repo={repo}&limit=2").get_json()
    assert page["total"] == 3 and len(page["jobs"]) == 2 and page["jobs"][0]["id"] == ids[-1]
    assert client.get(f"/jobs?owner={owner}&repo={repo}&limit=2&offset=2").get_json()["jobs"][0]["id"] == ids[0]
    assert client.get(f"/jobs?owner={owner}&state=FAILED").get_json()["total"] == 0
    assert client.get(f"/jobs?owner={owner}&ref=b").get_json()["jobs"][0]["id"] == ids[1]
    by_job = client.get(f"/events?job={ids[0]}").get_json()["events"]
    assert by_job and all(e["meta-info"]["job-id"] == ids[0] for e in by_job)
    by_app = client.get(f"/events?owner={owner}&repo={repo}&ref=c").get_json()["events"]
    assert by_app[-1]["type"] == "JOB_COMPLETE"
    for name, answer in (("JobPage", page), ("Events", {"events": by_job, "count": len(by_job)})):
        assert [e.message for e in documented_schema(client, name).iter_errors(answer)] == []

    assert client.delete(f"/apps/{owner}/{repo}/a").status_code == 401
    assert client.delete(f"/apps/{owner}/{repo}/a", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.delete(f"/apps/{owner}/{repo}/a", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202
    wait(lambda: recorder.received(f"/d/{tid}-main/apps/", "DELETE"), timeout=10)


def test_openapi_describes_every_route(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {
        "/",
        "/hooks/github",
        "/hooks/travis",
        "/hooks/generic",
        "/jobs",
        "/jobs/{job_id}",
        "/events",
        "/apps/{owner}/{repo}/{ref}",
        "/health",
    } <= set(document["paths"])
    assert "DeployRequest" in document["components"]["schemas"]
    from openapi_spec_validator import validate

    validate(document)


@pytest.mark.parametrize(
    "path, body, headers, status",
    [
        ("/hooks/generic", b"{}", {"X-Hook-Signature": "sha256=00"}, 401),
        ("/hooks/generic", b"not json", "sign", 400),
        ("/hooks/generic", json.dumps({"git": {}}).encode(), "sign", 400),
        ("/hooks/generic", json.dumps(generic_hook("o", "../etc", "master", "a" * 40)).encode(), "sign", 400),
        ("/hooks/github", b"{}", {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00"}, 401),
        ("/hooks/github", b"[1, 2", "github", 400),
        ("/hooks/github", json.dumps({"ref": "refs/heads/x", "after": "zz"}).encode(), "github", 400),
        (
            "/hooks/travis",
            b"payload=%7B%7D",
            {"Content-Type": "application/x-www-form-urlencoded", "Signature": "AAAA"},
            401,
        ),
        ("/hooks/travis", b"", {}, 400),
    ],
)
def test_bad_hooks_are_refused_with_json_errors(client, path, body, headers, status):
    if headers == "sign":
        headers = {"X-Hook-Signature": signatures.sign(SECRET, body)}
    elif headers == "github":
        headers = github_headers(SECRET, body, "push")
    answer = client.post(path, data=body, headers={"Content-Type": "application/json", **headers})
    assert answer.status_code == status
    assert set(answer.get_json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/jobs?limit=0", "limit"),
        ("/jobs?limit=x", "limit"),
        ("/jobs?state=DONE", "state"),
        ("/jobs?state=", "state"),
        ("/jobs?owner=", "owner"),
        ("/jobs?ref=a..b", "ref"),
        ("/events?job=../x", "job"),
        ("/events?job=", "job"),
        ("/events?owner=-x&repo=r&ref=m", "owner"),
        ("/events?owner=acme", "repo"),  # an app is owner, repo and ref
        ("/events?owner=acme&repo=shop&ref=", "ref"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(client, url, parameter):
    answer = client.get(url)
    assert answer.status_code == 400 and answer.get_json()["error"]["details"] == {"parameter": parameter}


def test_unknown_job_is_404(client):
    assert client.get("/jobs/0123456789abcdef").status_code == 404


def test_hooks_are_refused_with_503_when_they_cannot_be_stored(env):
    from orchestrator.app import create_app

    broken = {**env, "TOTEM_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    app = create_app(Settings.from_env(broken), OrchestratorSettings.from_env(broken))
    answer = post_generic(app.test_client(), generic_hook("o", "r", "master", "a" * 40))
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "unavailable"


# -- concurrency ----------------------------------------------------------------------------------


@pytest.fixture
def gunicorn(env, worker):
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "-k",
            "gthread",
            "--threads",
            "8",
            "orchestrator.app:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def healthy():
        try:
            return requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        wait(healthy, timeout=30, interval=0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        terminate(process, 20)


def test_fifty_concurrent_hooks_make_exactly_one_deploy_request(gunicorn, client, recorder, app_git, runtime):
    owner, repo, write = app_git
    sha, tid = commit(), uuid.uuid4().hex[:8]
    write(sha, deployers_yaml(recorder, tid, "main", ci="travis"))
    hooks = [
        generic_hook(owner, repo, "master", sha, *(("builder", "image-factory") if i % 2 else ("ci", "travis")))
        for i in range(50)
    ]

    def send(hook):
        return signed_post.post_json(f"{gunicorn}/hooks/generic", hook, SECRET, timeout=30)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(send, hooks))
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers if a.status_code != 202]
    assert len({a.json()["job"]["id"] for a in answers}) == 1
    job = wait_job(client, answers[0].json()["job"]["id"])
    assert job["state"] == "COMPLETE"
    wait(lambda: runtime.redis.llen("orchestrator") == 0, timeout=30)
    assert len(recorder.received(f"/d/{tid}-main/apps")) == 1
    assert event_types(job).count("DEPLOY_REQUESTED") == 1


def test_a_redelivered_deploy_task_only_sends_what_is_missing(runtime, recorder):
    from orchestrator import pipeline
    from orchestrator.jobs.model import Hook, apply_hook
    from orchestrator.jobs.store import JobStore
    from orchestrator.states import State

    tid, sha = uuid.uuid4().hex[:8], commit()
    hook = Hook(f"acme{tid}", "shop", "master", sha, "builder", "image-factory", "success", {"image": "img:2"})
    job, _ = apply_hook(None, hook)
    deployer = {"enabled": True, "deployment": {"name": "n", "version": "v", "mode": "blue-green", "nodes": 1}}
    job.update(
        state=State.DEPLOYING,
        required=["builder:image-factory"],
        deploy={"task": "task-1", "deployers": {"east": {"ok": True, "status": 201, "response": {}, "attempts": 1}}},
        config={
            "deployers": {name: {**deployer, "url": f"{recorder.url}/d/{tid}-{name}"} for name in ("east", "west")}
        },
    )
    jobs = JobStore(runtime)
    jobs.update_current(hook.app, lambda current: (job, None))
    assert pipeline.process(runtime, job["id"], "another-task") == State.DEPLOYING  # not its deploy: no requests
    assert recorder.received(f"/d/{tid}") == []
    assert pipeline.process(runtime, job["id"], "task-1") == State.COMPLETE
    assert recorder.received(f"/d/{tid}-east") == [] and len(recorder.received(f"/d/{tid}-west/apps")) == 1


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)


@hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(
    event=st.sampled_from(["push", "create", "delete", "workflow_run", "check_suite", "status"]),
    field=st.sampled_from(
        [
            "ref",
            "after",
            "repository",
            "ref_type",
            "workflow_run",
            "action",
            "branches",
            "sha",
            "check_suite",
            "deleted",
        ]
    ),
    value=json_values,
)
def test_mangled_but_signed_github_payloads_never_cause_a_500(client, event, field, value):
    body = payload(
        "github-push" if event == "push" else "github-workflow_run",
        owner="o",
        repo="r",
        ref="master",
        sha="a" * 40,
        workflow="CI",
        conclusion="success",
    )
    body[field] = value
    answer = post_github(client, event, body)
    assert answer.status_code < 500 or answer.status_code == 503, answer.get_json()


@hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(body=json_values)
def test_arbitrary_signed_generic_bodies_never_cause_a_500(client, body):
    answer = post_generic(client, body)
    assert answer.status_code in (200, 202, 400), answer.get_json()
