"""GitHub deliveries sent as `application/x-www-form-urlencoded` (`payload=<url-encoded JSON>`, an option
of every GitHub webhook) to the image factory's `/hooks/github`, against real Redis (no worker runs)."""

from __future__ import annotations

import pytest

from tests.images.image_factory.environment import factory_app
from tests.unit.test_orchestrator_payloads import FORM, commit, github_delivery, github_payload
from totem.signatures import sign


@pytest.fixture
def api(tmp_path):
    with factory_app(tmp_path) as (env, app, queued):
        yield env, app.test_client(), queued


def real_push(env, sha: str, ref: str = "feature/login") -> dict:
    return github_payload("push", owner=env.owner, repo="app", ref=ref, sha=sha)


def test_a_form_encoded_push_queues_a_build(api):
    env, client, queued = api
    sha, delivery_id = commit(), env.delivery_id()
    raw, headers = github_delivery(env.hook_secret, real_push(env, sha), "push", form=True, delivery=delivery_id)
    assert headers["Content-Type"] == FORM and raw.startswith(b"payload=%7B")
    answer = client.post("/hooks/github", data=raw, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    build = answer.get_json()["build"]
    assert answer.get_json()["status"] == "queued" and queued == [build["id"]]
    assert (build["owner"], build["repo"], build["ref"], build["commit"]) == (env.owner, "app", "feature/login", sha)
    assert build["trigger"] == f"github:{delivery_id}"
    # the same delivery again, JSON this time: still the same delivery
    raw, headers = github_delivery(env.hook_secret, real_push(env, sha), "push", delivery=delivery_id)
    again = client.post("/hooks/github", data=raw, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate" and queued == [build["id"]]


def test_a_form_encoded_ping_and_workflow_run_build_nothing(api):
    env, client, queued = api
    raw, headers = github_delivery(
        env.hook_secret, {"zen": "Half measures are as bad as nothing at all."}, "ping", True
    )
    assert client.post("/hooks/github", data=raw, headers=headers).status_code == 200
    run = github_payload(
        "workflow_run-completed",
        owner=env.owner,
        repo="app",
        ref="main",
        sha=commit(),
        workflow="CI",
        conclusion="success",
    )
    raw, headers = github_delivery(env.hook_secret, run, "workflow_run", form=True, delivery=env.delivery_id())
    assert client.post("/hooks/github", data=raw, headers=headers).status_code == 204
    assert queued == []


def test_form_deliveries_are_signed_over_the_body_as_sent_and_need_a_payload(api):
    env, client, queued = api
    body = real_push(env, commit())
    raw, headers = github_delivery(env.hook_secret, body, "push", form=True, delivery=env.delivery_id())
    wrong = {**headers, "X-Hub-Signature-256": sign(env.hook_secret, raw.replace(b"payload=", b"", 1))}
    assert client.post("/hooks/github", data=raw, headers=wrong).status_code == 401
    no_payload = b"ref=refs%2Fheads%2Fmain"
    answer = client.post(
        "/hooks/github", data=no_payload, headers={**headers, "X-Hub-Signature-256": sign(env.hook_secret, no_payload)}
    )
    assert answer.status_code == 400 and "payload" in answer.get_json()["error"]["message"]
    xml = b"<push/>"
    answer = client.post(
        "/hooks/github",
        data=xml,
        headers={**headers, "Content-Type": "text/xml", "X-Hub-Signature-256": sign(env.hook_secret, xml)},
    )
    assert answer.status_code == 415 and answer.get_json()["error"]["code"] == "unsupported_media_type"
    assert queued == []
