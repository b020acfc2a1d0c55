"""The image factory API against real Redis, with the queue replaced by a recorder (no worker runs)."""

from __future__ import annotations

import json
import time

import pytest

from image_factory.app import MAX_BODY
from image_factory.openapi import document
from image_factory.pipeline import claim, run_build
from tests.images.image_factory.environment import factory_app
from tests.images.image_factory.github_push import delivery, push_payload
from tests.openapi_contract import check_answer

SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40
SPEC = document()


@pytest.fixture
def api(tmp_path):
    with factory_app(tmp_path) as (env, app, queued):
        yield env, app.test_client(), queued, app


def push(env, client, repo="app", ref="main", commit=SHA_A, delivery_id=None):
    body, headers = delivery(
        env.hook_secret, push_payload(env.owner, repo, ref, commit), delivery_id=delivery_id or env.delivery_id()
    )
    return client.post("/hooks/github", data=body, headers=headers)


def auth(env):
    return {"Authorization": f"Bearer {env.api_token}"}


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]["code"] == code


def test_bad_signature_is_401_and_changes_nothing(api):
    env, client, queued, _ = api
    body, headers = delivery("wrong-secret", push_payload(env.owner, "app", "main", SHA_A))
    assert_error(client.post("/hooks/github", data=body, headers=headers), 401, "bad_signature")
    del headers["X-Hub-Signature-256"]
    assert_error(client.post("/hooks/github", data=body, headers=headers), 401, "bad_signature")
    assert queued == [] and client.get(f"/builds?owner={env.owner}").get_json()["builds"] == []


BAD_AFTER = b'{"ref": "refs/heads/main", "after": "xyz", "repository": {"name": "a", "owner": {"login": "b"}}}'


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'{"ref": "refs/heads/main"}', BAD_AFTER])
def test_malformed_payload_is_400_json(api, payload):
    env, client, queued, _ = api
    body, headers = delivery(env.hook_secret, payload)
    response = client.post("/hooks/github", data=body, headers=headers)
    assert response.status_code == 400 and "error" in response.get_json()
    assert queued == []


def test_names_that_could_reach_a_shell_are_refused(api):
    env, client, queued, _ = api
    for repo, ref in (("app;id", "main"), ("app", "$(id)"), ("app", "-rf"), ("..", "main")):
        body, headers = delivery(env.hook_secret, push_payload(env.owner, repo, ref, SHA_A))
        assert_error(client.post("/hooks/github", data=body, headers=headers), 400, "invalid_git_name")
    response = client.post(
        "/builds", json={"owner": env.owner, "repo": "app", "ref": "main", "commit": "HEAD"}, headers=auth(env)
    )
    assert_error(response, 400, "invalid_git_name")
    assert queued == []


def test_ping_deleted_refs_and_other_events(api):
    env, client, queued, _ = api
    body, headers = delivery(env.hook_secret, {"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")
    assert client.post("/hooks/github", data=body, headers=headers).status_code == 200
    body, headers = delivery(env.hook_secret, push_payload(env.owner, "app", "main", SHA_A, deleted=True))
    assert client.post("/hooks/github", data=body, headers=headers).status_code == 204
    body, headers = delivery(env.hook_secret, {"action": "opened"}, event="pull_request")
    assert client.post("/hooks/github", data=body, headers=headers).status_code == 204
    assert queued == []


def test_push_queues_one_build_and_keeps_slashes_in_the_branch(api):
    env, client, queued, _ = api
    delivery_id = env.delivery_id()
    response = push(env, client, ref="feature/login/v2", delivery_id=delivery_id)
    assert response.status_code == 202
    build = response.get_json()["build"]
    assert (build["ref"], build["status"], build["trigger"]) == ("feature/login/v2", "queued", f"github:{delivery_id}")
    assert queued == [build["id"]]
    assert push(env, client, ref="feature/login/v2", delivery_id=delivery_id).get_json()["status"] == "duplicate"
    assert queued == [build["id"]]


def test_same_commit_is_coalesced_and_a_newer_commit_supersedes_the_queued_one(api):
    env, client, queued, app = api
    first = push(env, client, commit=SHA_A).get_json()["build"]
    again = push(env, client, commit=SHA_A)
    assert again.status_code == 200 and again.get_json()["build"]["id"] == first["id"]

    newer = push(env, client, commit=SHA_B).get_json()["build"]
    old = client.get(f"/builds/{first['id']}").get_json()
    assert old["status"] == "superseded" and old["superseded_by"] == newer["id"]
    assert queued == [first["id"], newer["id"]]

    # the superseded build's task is a no-op when a worker gets to it
    assert run_build(app.extensions["image_factory"].factory, first["id"]) == "superseded"
    # a commit on another ref is a build of its own (its ref tag and hook differ)
    other = push(env, client, ref="release", commit=SHA_B).get_json()["build"]
    assert other["id"] != newer["id"]


def test_a_build_is_claimed_once_and_retaken_only_when_its_worker_is_gone(api):
    env, client, _, app = api
    store = app.extensions["image_factory"].factory.store
    build_id = push(env, client, commit=SHA_C).get_json()["build"]["id"]

    assert claim(store, build_id, 60) and store.get(build_id)["status"] == "running"
    assert not claim(store, build_id, 60)  # a redelivered task while the first worker builds
    store.redis.delete(store.key("lease", build_id))  # the first worker died: its lease lapsed
    assert claim(store, build_id, 60)
    store.finish(build_id, "succeeded")
    store.redis.delete(store.key("lease", build_id))
    assert not claim(store, build_id, 60)  # finished builds are never built again


def test_post_builds_needs_the_token_and_a_valid_body(api):
    env, client, queued, _ = api
    body = {"owner": env.owner, "repo": "app", "ref": "main", "commit": SHA_C}
    assert_error(client.post("/builds", json=body), 401, "unauthorized")
    assert_error(client.post("/builds", json=body, headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    assert_error(client.post("/builds", json={"owner": env.owner}, headers=auth(env)), 400, "validation_failed")
    created = client.post("/builds", json=body, headers=auth(env))
    assert created.status_code == 202
    reused = client.post("/builds", json=body, headers=auth(env))
    assert reused.status_code == 200 and reused.get_json()["build"]["id"] == created.get_json()["build"]["id"]
    forced = client.post("/builds", json={**body, "force": True}, headers=auth(env))
    assert forced.status_code == 202 and len(queued) == 2


def test_list_is_newest_first_filtered_and_paged(api):
    env, client, queued, _ = api
    ids = [
        push(env, client, repo="lister", ref=f"b{i}", commit=f"{i:x}" * 40).get_json()["build"]["id"]
        for i in range(1, 6)
    ]
    push(env, client, repo="other", commit=SHA_A)

    page = client.get(f"/builds?owner={env.owner}&repo=lister&limit=2").get_json()
    assert [b["id"] for b in page["builds"]] == ids[::-1][:2] and page["next_offset"] == 2
    rest = client.get(f"/builds?owner={env.owner}&repo=lister&limit=2&offset=4").get_json()
    assert [b["id"] for b in rest["builds"]] == [ids[0]] and rest["next_offset"] is None
    by_ref = client.get(f"/builds?owner={env.owner}&repo=lister&ref=b3").get_json()["builds"]
    assert [b["id"] for b in by_ref] == [ids[2]]
    assert client.get(f"/builds?owner={env.owner}&status=succeeded").get_json()["builds"] == []
    assert_error(client.get("/builds?status=bogus"), 400, "invalid_query")
    assert_error(client.get("/builds?limit=1000"), 400, "invalid_query")
    assert_error(client.get("/builds?ref=a//b"), 400, "invalid_query")


def test_unknown_builds_are_404(api):
    env, client, _, _ = api
    assert_error(client.get("/builds/b0123456789abcdef"), 404, "build_not_found")
    assert_error(client.get("/builds/..%2Fetc/log"), 404, "not_found")
    assert_error(client.get("/builds/nonsense/log"), 404, "build_not_found")


def test_health_reports_redis_and_docker(api):
    _, client, _, _ = api
    body = client.get("/health").get_json()
    assert set(body["checks"]) == {"redis", "docker"} and body["status"] == "ok"


UNSET = ("started_at", "finished_at", "image", "error", "superseded_by")


def test_post_builds_answers_the_record_as_get_shows_it(api):
    env, client, _, app = api
    body = {"owner": env.owner, "repo": "app", "ref": "main", "commit": SHA_B}
    created = client.post("/builds", json=body, headers=auth(env))
    check_answer(app, SPEC, created)
    build = created.get_json()["build"]
    shown = client.get(f"/builds/{build['id']}")
    check_answer(app, SPEC, shown)
    assert build == shown.get_json()  # one representation: unset fields are null in both
    assert all(build[name] is None for name in UNSET) and (build["images"], build["steps"]) == ([], [])
    listed = client.get(f"/builds?owner={env.owner}")
    check_answer(app, SPEC, listed)
    assert listed.get_json()["builds"] == [build]
    pushed = push(env, client, repo="hooked", commit=SHA_C).get_json()["build"]
    assert pushed == client.get(f"/builds/{pushed['id']}").get_json()
    reused = client.post("/builds", json=body, headers=auth(env))
    assert reused.status_code == 200 and reused.get_json()["build"] == build


def test_a_build_with_steps_matches_the_documented_schema(api):
    env, client, _, app = api
    store = app.extensions["image_factory"].factory.store
    build_id = push(env, client, commit=SHA_A).get_json()["build"]["id"]
    step = {"name": "checkout", "status": "failed", "started_at": time.time(), "finished_at": time.time()}
    store.update(build_id, steps=[{**step, "duration_s": 0.5, "error": "checkout: no such commit"}])
    store.finish(build_id, "failed", error="checkout: no such commit", images=[])
    shown = client.get(f"/builds/{build_id}")
    check_answer(app, SPEC, shown)
    assert shown.get_json()["status"] == "failed" and shown.get_json()["image"] is None
    log = client.get(f"/builds/{build_id}/log")
    check_answer(app, SPEC, log)
    assert log.mimetype == "text/plain" and log.headers["X-Build-Status"] == "failed"


def big_push(env, secret: str) -> tuple[bytes, dict[str, str]]:
    payload = {**push_payload(env.owner, "app", "main", SHA_A), "padding": "x" * (10 * 1024 * 1024)}
    return delivery(secret, json.dumps(payload).encode(), delivery_id=env.delivery_id())


def test_a_push_over_the_body_limit_is_413_before_its_signature_is_checked(api):
    env, client, queued, _ = api
    redis_client = app_redis(api)
    for secret in (env.hook_secret, "wrong-secret"):
        body, headers = big_push(env, secret)
        assert len(body) > MAX_BODY
        response = client.post("/hooks/github", data=body, headers=headers)
        assert_error(response, 413, "request_entity_too_large")
        assert response.get_json()["error"]["details"] == {"limit": MAX_BODY}
        assert not redis_client.exists(f"totem:image_factory:delivery:{headers['X-GitHub-Delivery']}")
    assert queued == [] and client.get(f"/builds?owner={env.owner}").get_json()["builds"] == []
    assert push(env, client).status_code == 202  # a push under the limit still builds


def app_redis(api):
    return api[3].extensions["image_factory"].factory.store.redis


@pytest.mark.parametrize("name", ["owner", "repo", "ref", "commit", "status", "limit", "offset"])
def test_an_empty_or_repeated_parameter_is_400_naming_it(api, name):
    _, client, _, app = api
    for query in (f"{name}=", f"{name}=1&{name}=2"):
        response = client.get(f"/builds?{query}")
        assert_error(response, 400, "invalid_query")
        assert response.get_json()["error"]["details"] == {"field": name}
        check_answer(app, SPEC, response)


def running_build(app, env) -> str:
    store = app.extensions["image_factory"].factory.store
    record = store.create({"owner": env.owner, "repo": "app", "ref": "main", "commit": SHA_A}, "test")
    store.update(record["id"], status="running", started_at=time.time())
    store.redis.xadd(store.key("log", record["id"]), {"line": "first"})
    return record["id"]


def test_followers_over_the_cap_are_429_and_a_closed_one_frees_its_slot(api):
    env, client, _, app = api
    slots = app.extensions["image_factory"].followers
    assert slots.limit == 4  # TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS's default
    build_id = running_build(app, env)
    path = f"/builds/{build_id}/log"
    # the other followers of this worker (the test client runs one streamed answer at a time;
    # tests/integration/test_image_factory_followers.py has concurrent ones, under gunicorn)
    others = [slots.take() for _ in range(slots.limit - 1)]
    try:
        follower = client.get(path, query_string={"follow": "1"}, buffered=False)
        assert follower.status_code == 200 and slots.taken == slots.limit
        refused = client.get(path, query_string={"follow": "1"})
        assert_error(refused, 429, "too_many_followers")
        assert refused.headers["Retry-After"] == str(refused.get_json()["error"]["details"]["retry_after"])
        check_answer(app, SPEC, refused)
        assert client.get(path).status_code == 200  # the log as text needs no slot
        assert client.get("/health").status_code == 200

        assert b"data: first" in next(follower.response)  # started, then the client leaves
        follower.close()
        assert slots.taken == slots.limit - 1
        unstarted = client.get(path, query_string={"follow": "1"}, buffered=False)
        assert unstarted.status_code == 200 and slots.taken == slots.limit
        unstarted.close()  # closed before its first event: its slot comes back too
        assert slots.taken == slots.limit - 1
    finally:
        for release in others:
            release()
    assert slots.taken == 0
