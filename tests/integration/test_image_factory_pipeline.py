"""Webhook → Celery worker (a real subprocess) → docker build → local registry → signed builder hook."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import redis

from image_factory.app import create_app
from image_factory.coalescing import request_build
from image_factory.context import make_factory
from image_factory.log_archive import S3Archive
from image_factory.pipeline import run_build
from tests.images.image_factory.environment import FactoryEnvironment
from tests.images.image_factory.git_repos import BROKEN_DOCKERFILE, DOCKERFILE, GitRepo
from tests.images.image_factory.github_push import delivery, push_payload
from tests.images.image_factory.hook_receiver import HookReceiver
from tests.images.image_factory.s3_bucket import ENDPOINT, s3_bucket
from tests.images.image_factory.worker_process import WorkerProcess
from totem.settings import Settings
from totem.waiting import Deadline, wait

BUILD_WAIT = 180  # seconds; a bound, not a timing assertion


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    secret = f"hook-secret-{uuid.uuid4().hex}"
    with HookReceiver(secret) as receiver, pytest.MonkeyPatch.context() as patch:
        env = FactoryEnvironment(tmp_path_factory.mktemp("image_factory"), receiver.url, secret)
        for name, value in env.env.items():
            patch.setenv(name, value)
        app = create_app(Settings.from_env(env.env))
        client = redis.Redis.from_url(Settings.from_env(env.env).redis_url, decode_responses=True)
        worker = WorkerProcess(env.env, env.queue, env.root / "worker.log")
        try:
            worker.start()
            yield env, app.test_client(), receiver, worker
        finally:
            worker.stop()
            env.cleanup(client)
            client.close()


def new_repo(env: FactoryEnvironment, files: dict[str, str], ref: str = "main") -> tuple[GitRepo, str]:
    repo = GitRepo(env.git_root, env.owner, f"app-{uuid.uuid4().hex[:8]}")
    commit = repo.commit(files)
    repo.push(ref)
    return repo, commit


def send_push(env, client, repo: GitRepo, ref: str, commit: str, delivery_id: str | None = None):
    body, headers = delivery(
        env.hook_secret, push_payload(repo.owner, repo.repo, ref, commit), delivery_id=delivery_id or env.delivery_id()
    )
    return client.post("/hooks/github", data=body, headers=headers)


def finished(client, build_id: str) -> dict:
    def done():
        record = client.get(f"/builds/{build_id}").get_json()
        return record if record["status"] in ("succeeded", "failed", "superseded") else None

    return wait(done, timeout=BUILD_WAIT, interval=0.2)


def test_push_is_built_pushed_to_the_registry_and_announced(factory):
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": "hello\n"}, ref="feature/login")

    response = send_push(env, client, repo, "feature/login", commit)
    assert response.status_code == 202
    build = response.get_json()["build"]
    assert build["ref"] == "feature/login" and build["commit"] == commit

    record = finished(client, build["id"])
    assert record["status"] == "succeeded", record["error"]
    name = f"{env.registry}/{env.owner}-{repo.repo}".lower()
    assert record["image"] == f"{name}:{commit}"
    assert record["images"] == [f"{name}:{commit}", f"{name}:feature-login"]
    assert [s["name"] for s in record["steps"]] == ["checkout", "build", "push", "hook"]
    assert all(s["status"] == "succeeded" and s["duration_s"] >= 0 for s in record["steps"])
    assert record["attempts"] == 1 and wait(lambda: not lease_held(client, build["id"]), timeout=10)  # released

    for image in record["images"]:
        manifest = env.manifest(image)
        assert manifest.status_code == 200, manifest.text
        assert manifest.json()["schemaVersion"] == 2 and manifest.json()["layers"]

    hooks = wait(lambda: receiver.for_commit(commit), timeout=30)
    assert receiver.rejected == 0
    assert hooks == [
        {
            "git": {"owner": env.owner, "repo": repo.repo, "ref": "feature/login", "commit": commit},
            "type": "builder",
            "name": "image-factory",
            "status": "success",
            "force-deploy": False,
            "result": {"build": build["id"], "image": record["image"], "images": record["images"]},
        }
    ]

    log = client.get(f"/builds/{build['id']}/log")
    assert log.status_code == 200 and log.mimetype == "text/plain"
    assert "==> checkout" in log.text and f"pushed {record['image']}" in log.text

    listed = client.get(f"/builds?owner={env.owner}&repo={repo.repo}").get_json()
    assert [b["id"] for b in listed["builds"]] == [build["id"]]


def test_broken_dockerfile_fails_with_the_error_in_the_log_and_a_failed_hook(factory):
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": BROKEN_DOCKERFILE})

    build = send_push(env, client, repo, "main", commit).get_json()["build"]
    record = finished(client, build["id"])

    assert record["status"] == "failed" and record["image"] is None
    assert "docker build failed" in record["error"]
    assert [(s["name"], s["status"]) for s in record["steps"]] == [
        ("checkout", "succeeded"),
        ("build", "failed"),
        ("hook", "succeeded"),
    ]
    log = client.get(f"/builds/{build['id']}/log").text
    assert "about to fail" in log and "!!! build failed" in log
    hook = wait(lambda: receiver.for_commit(commit), timeout=30)[0]
    assert hook["status"] == "failed" and hook["type"] == "builder"
    assert "docker build failed" in hook["result"]["error"] and "image" not in hook["result"]


def test_duplicate_delivery_builds_once(factory):
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": "once\n"})
    delivery_id = env.delivery_id()

    first = send_push(env, client, repo, "main", commit, delivery_id)
    second = send_push(env, client, repo, "main", commit, delivery_id)

    assert first.status_code == 202
    assert second.status_code == 200 and second.get_json()["status"] == "duplicate"
    assert finished(client, first.get_json()["build"]["id"])["status"] == "succeeded"
    builds = client.get(f"/builds?owner={env.owner}&repo={repo.repo}").get_json()["builds"]
    assert len(builds) == 1
    assert len(wait(lambda: receiver.for_commit(commit), timeout=30)) == 1

    # a new delivery of a commit built recently returns that build instead of building again
    again = send_push(env, client, repo, "main", commit)
    assert again.status_code == 200 and again.get_json()["status"] == "reused"
    assert again.get_json()["build"]["id"] == first.get_json()["build"]["id"]


def test_totem_yml_selects_dockerfile_build_args_and_target(factory):
    env, client, receiver, worker = factory
    dockerfile = (
        "FROM scratch AS base\nCOPY busybox /bin/busybox\n"
        "FROM base AS app\nARG MESSAGE=unset\nLABEL test.message=$MESSAGE\n"
        'FROM base AS never\nRUN ["/bin/busybox", "false"]\n'
    )
    totem_yml = "build:\n  dockerfile: docker/app.Dockerfile\n  target: app\n  args:\n    MESSAGE: from-totem-yml\n"
    repo, commit = new_repo(env, {"docker/app.Dockerfile": dockerfile, "totem.yml": totem_yml})

    record = finished(client, send_push(env, client, repo, "main", commit).get_json()["build"]["id"])

    assert record["status"] == "succeeded", record["error"]
    import docker

    api = docker.APIClient(base_url=env.env.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=30)
    try:
        labels = api.inspect_image(record["image"])["Config"]["Labels"]
    finally:
        api.close()
    assert labels["test.message"] == "from-totem-yml"
    assert labels["totem.build.commit"] == commit and labels["totem.build.id"] == record["id"]


def test_followed_log_streams_lines_until_the_build_ends(factory):
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": "follow\n"})
    build = send_push(env, client, repo, "main", commit).get_json()["build"]

    response = client.get(f"/builds/{build['id']}/log?follow=1", buffered=False)
    assert response.mimetype == "text/event-stream"
    events, deadline = [], Deadline(BUILD_WAIT)
    for chunk in response.response:  # the stream ends with the build (keep-alives arrive every second)
        events.extend(e for e in chunk.decode().split("\n\n") if e.startswith("id:"))
        if events and "event: end" in events[-1] or deadline.expired:
            break
    response.close()
    lines = [e.split("data: ", 1)[1] for e in events if "event: line" in e]
    assert "==> checkout" in lines and "==> push" in lines
    assert events[-1].endswith("data: succeeded")


def test_registry_password_never_appears_in_logs(factory):
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": "secret\n"})
    record = finished(client, send_push(env, client, repo, "main", commit).get_json()["build"]["id"])
    assert record["status"] == "succeeded"

    build_log = client.get(f"/builds/{record['id']}/log").text
    assert "pushed" in build_log
    for text in (build_log, worker.log_text(), json.dumps(record)):
        assert env.registry_password not in text


def test_hook_is_retried_while_the_orchestrator_is_unavailable(factory):
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": "retry\n"})
    receiver.unavailable = 2
    record = finished(client, send_push(env, client, repo, "main", commit).get_json()["build"]["id"])
    assert record["status"] == "succeeded" and receiver.unavailable == 0
    assert [h["status"] for h in receiver.for_commit(commit)] == ["success"]


def test_a_step_that_runs_too_long_fails_the_build(factory):
    """Run in-process (the task function itself) so the build timeout can be made short."""
    env, client, receiver, worker = factory
    nonce = uuid.uuid4().hex  # never a cached step: the sleep must really run
    slow = f'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "sleep 60 # {nonce}"]\n'
    repo, commit = new_repo(env, {"Dockerfile": slow})
    base = make_factory(Settings.from_env(env.env))
    quick = dataclasses.replace(base, config=dataclasses.replace(base.config, build_timeout=3))
    record, _ = request_build(
        quick.store,
        {"owner": repo.owner, "repo": repo.repo, "ref": "main", "commit": commit},
        "test",
        quick.config.recent_seconds,
    )

    assert run_build(quick, record["id"]) == "failed"

    record = quick.store.get(record["id"])
    assert "timed out" in record["error"] and record["steps"][1]["status"] == "failed"
    assert wait(lambda: receiver.for_commit(commit), timeout=30)[0]["status"] == "failed"
    assert wait(lambda: not build_containers(env), timeout=60)  # the daemon abandoned the build


def test_full_log_goes_to_s3_when_a_bucket_is_configured(factory, monkeypatch):
    """In-process again, with the log archive switched to S3 (moto on loopback)."""
    env, client, receiver, worker = factory
    repo, commit = new_repo(env, {"Dockerfile": BROKEN_DOCKERFILE})
    with s3_bucket(monkeypatch) as bucket:
        monkeypatch.setenv("TOTEM_BUILD_LOG_BUCKET", bucket)
        monkeypatch.setenv("AWS_ENDPOINT_URL", ENDPOINT)
        to_s3 = make_factory(Settings.from_env())
        assert isinstance(to_s3.archive, S3Archive)
        record, _ = request_build(
            to_s3.store,
            {"owner": repo.owner, "repo": repo.repo, "ref": "main", "commit": commit},
            "test",
            to_s3.config.recent_seconds,
        )
        assert run_build(to_s3, record["id"]) == "failed"
        archived = to_s3.archive.load(record["id"])
    assert "about to fail" in archived and "==> hook" in archived
    assert not list((env.root / "work" / "logs").glob(f"{record['id']}*"))


def lease_held(client, build_id: str) -> bool:
    store = client.application.extensions["image_factory"].factory.store
    return bool(store.redis.exists(store.key("lease", build_id)))


def build_containers(env) -> list:
    import docker

    api = docker.APIClient(base_url=env.env.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=30)
    try:
        return [
            c
            for c in api.containers(all=True)
            if "sleep" in str(c.get("Command")) and not c.get("Labels", {}).get("totem.app")
        ]
    finally:
        api.close()


def image_id(env, tag: str) -> str:
    import docker

    api = docker.APIClient(base_url=env.env.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=30)
    try:
        return api.inspect_image(tag)["Id"]
    finally:
        api.close()


def test_a_tree_built_already_is_tagged_and_pushed_not_built_again(factory):
    env, client, receiver, worker = factory
    repo, first = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": f"same {uuid.uuid4().hex}\n"})
    built = finished(client, send_push(env, client, repo, "main", first).get_json()["build"]["id"])
    assert built["status"] == "succeeded" and built["reused_from"] is None and built["tree"]

    again = repo.commit({}, message="same files, new commit")  # a revert, a merge of the same files
    repo.push("release")
    record = finished(client, send_push(env, client, repo, "release", again).get_json()["build"]["id"])

    assert record["status"] == "succeeded", record["error"]
    assert (record["tree"], record["reused_from"]) == (built["tree"], built["id"])
    assert record["image"].endswith(f":{again}") and image_id(env, record["image"]) == image_id(env, built["image"])
    for image in record["images"]:  # the new tags are in the registry
        assert env.manifest(image).status_code == 200
    hook = wait(lambda: receiver.for_commit(again), timeout=30)[0]
    assert hook["status"] == "success" and hook["result"]["image"] == record["image"]
    assert "reusing" in client.get(f"/builds/{record['id']}/log").text

    forced = client.post(
        "/builds",
        json={"owner": repo.owner, "repo": repo.repo, "ref": "release", "commit": again, "force": True},
        headers={"Authorization": f"Bearer {env.api_token}"},
    )
    assert forced.status_code == 202, forced.get_json()
    rebuilt = finished(client, forced.get_json()["build"]["id"])
    assert rebuilt["status"] == "succeeded" and rebuilt["forced"] and rebuilt["reused_from"] is None


def test_a_changed_tree_is_built(factory):
    env, client, receiver, worker = factory
    repo, first = new_repo(env, {"Dockerfile": DOCKERFILE, "message.txt": f"one {uuid.uuid4().hex}\n"})
    built = finished(client, send_push(env, client, repo, "main", first).get_json()["build"]["id"])
    second = repo.commit({"message.txt": "two\n"})
    repo.push("main")
    record = finished(client, send_push(env, client, repo, "main", second).get_json()["build"]["id"])
    assert record["status"] == "succeeded" and record["reused_from"] is None
    assert record["tree"] != built["tree"] and image_id(env, record["image"]) != image_id(env, built["image"])
