"""The orchestrator's OpenAPI document: valid, describes exactly the routes the app serves, its name
patterns say what totem.git_names accepts, and what the routes answer fits the documented schemas."""

from __future__ import annotations

import json
import re

import hypothesis
import pytest
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from orchestrator.api import openapi as orchestrator_openapi
from orchestrator.api.openapi import document
from tests.unit.test_image_factory_openapi import documented, served
from tests.unit.test_orchestrator_payloads import (
    TravisKey,
    commit,
    generic_hook,
    github_delivery,
    github_payload,
    payload,
    unit_orchestrator,
)
from totem import signatures
from totem.git_names import is_owner, is_ref, is_repo


@pytest.fixture(scope="module")
def travis_key():
    return TravisKey()


@pytest.fixture
def unit(travis_key):
    with unit_orchestrator(TOTEM_TRAVIS_PUBLIC_KEY=travis_key.public_pem) as orchestrator:
        orchestrator.travis_key = travis_key
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
    assert set(paths["/hooks/github"]["post"]["responses"]) == {"200", "202", "400", "401", "413", "415", "503"}
    assert set(paths["/hooks/github"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }
    for route in ("/hooks/generic", "/hooks/travis"):
        assert {"200", "202", "400", "401", "413", "503"} == set(paths[route]["post"]["responses"])
    parameters = {p["name"]: p["schema"] for p in paths["/jobs"]["get"]["parameters"]}
    assert parameters["state"] == {"enum": ["NEW", "SCHEDULED", "DEPLOYING", "COMPLETE", "FAILED", "NOOP"]}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    assert parameters["offset"]["minimum"] == 0
    events = {p["name"]: p["schema"] for p in paths["/events"]["get"]["parameters"]}
    assert events["limit"]["maximum"] == 1000 and "pattern" in events["job"]


NAMES = [
    "main",
    "master",
    "feature/login",
    "release-1.2",
    "v1.0.0",
    "a/b/c",
    "x_y+z",
    "acme-corp",
    "hello.world",
    "a",
    "a" * 100,
    "a" * 101,
    "r" * 200,
    "r" * 201,
    "",
    "-rf",
    "/abs",
    "a/../b",
    "a//b",
    "a/",
    "x.lock",
    "x.lock/y",
    ".hidden",
    "a/.b",
    "a/-b",
    "semi;colon",
    "sp ace",
    "$(id)",
    "ü",
    ".",
    "..",
    "a..b",
    "a.",
    "_a",
    "a_",
    "a-",
    "-a",
    "+x",
    "a/b.",
    "a.b/c",
]


@pytest.mark.parametrize(
    "schema_name, check",
    [("OWNER", is_owner), ("REPO", is_repo), ("REF", is_ref)],
)
def test_the_name_patterns_say_what_git_names_accepts(schema_name, check):
    validator = Draft202012Validator(getattr(orchestrator_openapi, schema_name))
    for name in NAMES:
        assert validator.is_valid(name) == check(name), (schema_name, name)
    assert re.compile(orchestrator_openapi.JOB_ID_PATTERN).search("0123456789abcdef" * 2)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(name=st.text(alphabet="aZ09_.-+/;é ", max_size=14))
def test_the_name_patterns_agree_on_any_name(name):
    for schema_name, check in (("OWNER", is_owner), ("REPO", is_repo), ("REF", is_ref)):
        assert Draft202012Validator(getattr(orchestrator_openapi, schema_name)).is_valid(name) == check(name)


def schema_of(path: str, method: str, status: int) -> Draft202012Validator:
    spec = document()
    response = spec["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec["components"]})


def conforms(answer, path: str, method: str = "get") -> dict:
    data = answer.get_json()
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in schema_of(path, method, answer.status_code).iter_errors(data)
    ]
    assert errors == [], (path, answer.status_code, errors, data)
    return data


def post_generic(unit, hook: dict):
    raw = json.dumps(hook).encode()
    headers = {"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(unit.secret, raw)}
    return unit.client.post("/hooks/generic", data=raw, headers=headers)


def post_github(unit, event: str, body: dict, form: bool = False, delivery: str | None = None):
    raw, headers = github_delivery(unit.secret, body, event, form=form, delivery=delivery or unit.delivery_id())
    return unit.client.post("/hooks/github", data=raw, headers=headers)


def test_what_the_routes_answer_fits_the_documented_schemas(unit):
    owner, sha, old = unit.tag, commit(), commit()
    conforms(unit.client.get("/"), "/")
    conforms(unit.client.get("/health"), "/health")
    first = conforms(post_generic(unit, generic_hook(owner, "shop", "master", old)), "/hooks/generic", "post")
    newer = conforms(post_generic(unit, generic_hook(owner, "shop", "master", sha)), "/hooks/generic", "post")
    assert first["job"] == newer["job"]  # the NEW job moved on to the newer commit
    superseded = post_generic(unit, generic_hook(owner, "shop", "master", old, "ci", "travis"))
    assert superseded.status_code == 200 and conforms(superseded, "/hooks/generic", "post")["status"] == "ignored"

    job_id = newer["job"]["id"]
    conforms(unit.client.get(f"/jobs/{job_id}"), "/jobs/{job_id}")
    assert conforms(unit.client.get(f"/jobs?owner={owner}"), "/jobs")["total"] == 1
    assert conforms(unit.client.get(f"/events?job={job_id}"), "/events")["count"] >= 3
    conforms(unit.client.get(f"/events?owner={owner}&repo=shop&ref=master"), "/events")

    run = github_payload(
        "workflow_run-completed", owner=owner, repo="shop", ref="master", sha=sha, workflow="CI", conclusion="success"
    )
    delivery = unit.delivery_id()
    conforms(post_github(unit, "workflow_run", run, form=True, delivery=delivery), "/hooks/github", "post")
    conforms(post_github(unit, "workflow_run", run, delivery=delivery), "/hooks/github", "post")  # duplicate
    conforms(post_github(unit, "ping", {"zen": "Keep it logically awesome."}), "/hooks/github", "post")
    conforms(post_github(unit, "issues", {"action": "opened"}), "/hooks/github", "post")
    branch = payload("github-delete", owner=owner, repo="shop", ref="feature/x")
    assert conforms(post_github(unit, "delete", branch), "/hooks/github", "post")["action"] == "undeploy"
    branch = payload("github-create", owner=owner, repo="shop", ref="feature/x")
    assert conforms(post_github(unit, "create", branch), "/hooks/github", "post")["action"] == "unfreeze"
    status = {
        "sha": sha,
        "state": "success",
        "context": "ci/jenkins",
        "branches": [{"name": ref, "commit": {"sha": sha}} for ref in ("master", "release")],
        "repository": {"name": "shop", "owner": {"login": owner}},
    }
    several = conforms(post_github(unit, "status", status), "/hooks/github", "post")
    assert [a["hook"] for a in several["hooks"]] == ["ci:ci/jenkins", "ci:ci/jenkins"]

    pull = json.dumps({**_travis(owner, sha), "type": "pull_request"})
    answer = unit.client.post(
        "/hooks/travis", data={"payload": pull}, headers={"Signature": unit.travis_key.sign(pull)}
    )
    assert answer.status_code == 200 and conforms(answer, "/hooks/travis", "post")["status"] == "ignored"
    text = json.dumps(_travis(owner, sha))
    answer = unit.client.post(
        "/hooks/travis", data={"payload": text}, headers={"Signature": unit.travis_key.sign(text)}
    )
    assert answer.status_code == 202 and conforms(answer, "/hooks/travis", "post")["job"]["id"] == job_id

    token = {"Authorization": f"Bearer {unit.runtime.settings.api_token}"}
    answer = unit.client.delete(f"/apps/{owner}/shop/feature/x", headers=token)
    assert answer.status_code == 202 and conforms(answer, "/apps/{owner}/{repo}/{ref}", "delete")["app"].endswith("x")


def _travis(owner: str, sha: str) -> dict:
    return payload("travis-payload", owner=owner, repo="shop", ref="master", sha=sha, status_message="Passed")


def test_an_error_fits_the_error_envelope(unit):
    answer = unit.client.get("/jobs?state=")
    assert answer.status_code == 400 and conforms(answer, "/jobs")["error"]["details"] == {"parameter": "state"}
