"""The orchestrator's OpenAPI document: valid, describes exactly the routes the app serves, its name
schemas are totem.git_names', and what the routes answer fits the documented schemas."""

from __future__ import annotations

import functools
import json
import re

import pytest
from openapi_spec_validator import validate

from orchestrator.api.openapi import JOB_ID_PATTERN, document
from tests.openapi_contract import check_answer, documented, served
from tests.unit.test_orchestrator_payloads import (
    commit,
    generic_hook,
    github_delivery,
    github_payload,
    payload,
    unit_orchestrator,
)
from totem import signatures
from totem.api.openapi import github_hook_body
from totem.git_names import schema as git_schema


@pytest.fixture
def unit():
    with unit_orchestrator(travis=True) as orchestrator:
        yield orchestrator


def test_the_document_is_valid_openapi():
    validate(document())


def test_it_lists_every_route_the_orchestrator_serves(unit):
    app = unit.client.application
    served_document = unit.client.get("/openapi.json").get_json()
    assert served_document == json.loads(json.dumps(document()))
    assert documented(served_document) == served(app)


def test_the_shared_builders_frame_it():
    paths = document()["paths"]
    assert set(paths["/health"]["get"]["responses"]) == {"200", "503"}
    assert paths["/health"]["get"]["summary"] == "etcd and Redis reachability"
    assert set(paths["/hooks/github"]["post"]["responses"]) == {"200", "202", "400", "401", "413", "414", "415", "503"}
    assert paths["/hooks/github"]["post"]["requestBody"] == github_hook_body()  # JSON or form-encoded
    for route in ("/hooks/generic", "/hooks/travis"):
        assert {"200", "202", "400", "401", "413", "414", "503"} == set(paths[route]["post"]["responses"])
    parameters = {p["name"]: p["schema"] for p in paths["/jobs"]["get"]["parameters"]}
    assert parameters["state"] == {
        "enum": ["NEW", "SCHEDULED", "AWAITING_APPROVAL", "DEPLOYING", "COMPLETE", "FAILED", "NOOP"]
    }
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    assert parameters["offset"]["minimum"] == 0
    events = {p["name"]: p["schema"] for p in paths["/events"]["get"]["parameters"]}
    assert events["limit"]["maximum"] == 1000 and events["job"]["pattern"] == JOB_ID_PATTERN
    assert re.compile(JOB_ID_PATTERN).search("0123456789abcdef" * 2)
    undeploy = {p["name"]: p["schema"] for p in paths["/apps/{owner}/{repo}/{ref}"]["delete"]["parameters"]}
    for name in ("owner", "repo", "ref"):  # the names' schemas are what totem.git_names checks
        assert parameters[name] == events[name] == undeploy[name] == git_schema(name)


def post_generic(unit, hook: dict):
    raw = json.dumps(hook).encode()
    headers = {"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(unit.secret, raw)}
    return unit.client.post("/hooks/generic", data=raw, headers=headers)


def post_github(unit, event: str, body: dict, form: bool = False, delivery: str | None = None):
    raw, headers = github_delivery(unit.secret, body, event, form=form, delivery=delivery or unit.delivery_id())
    return unit.client.post("/hooks/github", data=raw, headers=headers)


def test_what_the_routes_answer_fits_the_documented_schemas(unit):
    conforms = functools.partial(check_answer, unit.client.application, document())
    owner, sha, old = unit.tag, commit(), commit()
    conforms(unit.client.get("/"))
    conforms(unit.client.get("/health"))
    first = conforms(post_generic(unit, generic_hook(owner, "shop", "master", old)))
    newer = conforms(post_generic(unit, generic_hook(owner, "shop", "master", sha)))
    assert first["job"] == newer["job"]  # the NEW job moved on to the newer commit
    superseded = post_generic(unit, generic_hook(owner, "shop", "master", old, "ci", "travis"))
    assert superseded.status_code == 200 and conforms(superseded)["status"] == "ignored"

    job_id = newer["job"]["id"]
    conforms(unit.client.get(f"/jobs/{job_id}"))
    assert conforms(unit.client.get(f"/jobs?owner={owner}"))["total"] == 1
    assert conforms(unit.client.get(f"/events?job={job_id}"))["count"] >= 3
    conforms(unit.client.get(f"/events?owner={owner}&repo=shop&ref=master"))

    run = github_payload(
        "workflow_run-completed", owner=owner, repo="shop", ref="master", sha=sha, workflow="CI", conclusion="success"
    )
    delivery = unit.delivery_id()
    conforms(post_github(unit, "workflow_run", run, form=True, delivery=delivery))
    conforms(post_github(unit, "workflow_run", run, delivery=delivery))  # duplicate
    conforms(post_github(unit, "ping", {"zen": "Keep it logically awesome."}))
    conforms(post_github(unit, "issues", {"action": "opened"}))
    branch = payload("github-delete", owner=owner, repo="shop", ref="feature/x")
    assert conforms(post_github(unit, "delete", branch))["action"] == "undeploy"
    branch = payload("github-create", owner=owner, repo="shop", ref="feature/x")
    assert conforms(post_github(unit, "create", branch))["action"] == "unfreeze"
    status = {
        "sha": sha,
        "state": "success",
        "context": "ci/jenkins",
        "branches": [{"name": ref, "commit": {"sha": sha}} for ref in ("master", "release")],
        "repository": {"name": "shop", "owner": {"login": owner}},
    }
    several = conforms(post_github(unit, "status", status))
    assert [a["hook"] for a in several["hooks"]] == ["ci:ci/jenkins", "ci:ci/jenkins"]

    pull = json.dumps({**_travis(owner, sha), "type": "pull_request"})
    answer = unit.client.post(
        "/hooks/travis", data={"payload": pull}, headers={"Signature": unit.travis_key.sign(pull)}
    )
    assert answer.status_code == 200 and conforms(answer)["status"] == "ignored"
    text = json.dumps(_travis(owner, sha))
    answer = unit.client.post(
        "/hooks/travis", data={"payload": text}, headers={"Signature": unit.travis_key.sign(text)}
    )
    assert answer.status_code == 202 and conforms(answer)["job"]["id"] == job_id

    token = {"Authorization": f"Bearer {unit.runtime.settings.api_token}"}
    answer = unit.client.delete(f"/apps/{owner}/shop/feature/x", headers=token)
    assert answer.status_code == 202 and conforms(answer)["app"].endswith("x")


def _travis(owner: str, sha: str) -> dict:
    return payload("travis-payload", owner=owner, repo="shop", ref="master", sha=sha, status_message="Passed")


def test_an_error_fits_the_error_envelope(unit):
    answer = unit.client.get("/jobs?state=")
    assert answer.status_code == 400
    assert check_answer(unit.client.application, document(), answer)["error"]["details"] == {"parameter": "state"}
