"""Real GitHub deliveries (tests/fixtures/github), signed, JSON- and form-encoded, to the orchestrator's
`/hooks/github`: the jobs they land on (real Redis, no worker), the answers, and what is refused."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_orchestrator_payloads import FORM, commit, github_delivery, github_payload, unit_orchestrator
from totem.signatures import sign


@pytest.fixture
def unit():
    with unit_orchestrator() as orchestrator:
        yield orchestrator


def send(unit, event: str, body: dict, form: bool, delivery: str | None = None):
    raw, headers = github_delivery(unit.secret, body, event, form=form, delivery=delivery or unit.delivery_id())
    return unit.client.post("/hooks/github", data=raw, headers=headers)


def real(name: str, unit, sha: str, **values: str) -> dict:
    defaults = {"owner": unit.tag, "repo": "shop", "ref": "master", "workflow": "CI", "conclusion": "success"}
    return github_payload(name, **{**defaults, "sha": sha, **values})


def job_of(unit, answer) -> dict:
    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["job"]["id"]
    assert answer.headers["Location"] == f"/jobs/{job_id}"
    return unit.client.get(f"/jobs/{job_id}").get_json()


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_a_completed_run_with_an_empty_name_is_the_workflows_ci_hook(unit, form):
    sha = commit()
    body = real("workflow_run-completed", unit, sha)
    assert body["workflow_run"]["name"] == "" and body["workflow"]["name"] == "CI"
    job = job_of(unit, send(unit, "workflow_run", body, form))
    assert (job["owner"], job["repo"], job["ref"], job["commit"]) == (unit.tag, "shop", "master", sha)
    assert job["hooks"]["ci:CI"]["status"] == "success" and job["hooks"]["ci:CI"]["source"] == "github"
    assert unit.queued == [("process_job", job["id"])]


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_a_push_is_an_scm_push_hook(unit, form):
    sha = commit()
    body = real("push", unit, sha, ref="feature/login")
    job = job_of(unit, send(unit, "push", body, form))
    assert (job["ref"], job["commit"], list(job["hooks"])) == ("feature/login", sha, ["scm-push:github"])


def test_a_failed_run_sent_as_a_form_fails_its_hook(unit):
    body = real("workflow_run-completed", unit, commit(), conclusion="failure")
    assert job_of(unit, send(unit, "workflow_run", body, form=True))["hooks"]["ci:CI"]["status"] == "failed"


def test_a_redelivery_is_answered_duplicate_whatever_its_encoding(unit):
    body, delivery = real("push", unit, commit()), unit.delivery_id()
    assert send(unit, "push", body, form=True, delivery=delivery).status_code == 202
    again = send(unit, "push", body, form=False, delivery=delivery)
    assert again.status_code == 200 and again.get_json() == {"status": "duplicate", "delivery": delivery}
    assert len(unit.queued) == 1


def test_ping_and_unused_events_are_200_when_form_encoded(unit):
    ping = send(unit, "ping", {"zen": "Design for failure.", "hook_id": 1}, form=True)
    assert ping.status_code == 200 and ping.get_json() == {"status": "pong", "zen": "Design for failure."}
    issues = send(unit, "issues", {"action": "opened"}, form=True)
    assert issues.status_code == 200 and issues.get_json()["status"] == "ignored"
    assert unit.stored() == [] and unit.queued == []


def refused(unit, raw: bytes, content_type: str, status: int, code: str, signature: str | None = None):
    headers = {
        "Content-Type": content_type,
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": unit.delivery_id(),
        "X-Hub-Signature-256": signature or sign(unit.secret, raw),
    }
    answer = unit.client.post("/hooks/github", data=raw, headers=headers)
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == code
    assert unit.stored() == [] and unit.queued == []
    return error


def test_a_form_without_a_payload_field_is_400_naming_it(unit):
    error = refused(unit, b"ref=refs%2Fheads%2Fmaster", FORM, 400, "invalid_payload")
    assert "payload" in error["message"] and error["details"] == {"field": "payload"}


def test_other_content_types_are_415(unit):
    raw = json.dumps(real("push", unit, commit())).encode()
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
        error = refused(unit, raw, content_type, 415, "unsupported_media_type")
        assert error["details"]["accepted"] == ["application/json", FORM]


def test_the_signature_is_over_the_form_body_as_sent(unit):
    body = real("push", unit, commit())
    raw, _ = github_delivery(unit.secret, body, "push", form=True)
    signed_json = sign(unit.secret, json.dumps(body).encode())
    refused(unit, raw, FORM, 401, "bad_signature", signature=signed_json)
