"""The deploy request contract as the deployer applies it: the minimal request a REST caller writes,
the defaults it gets (the deployer's settings among them), one-line refusals, what the orchestrator
sends still accepted, and an OpenAPI document that lists every route and status."""

from __future__ import annotations

import copy
import functools

import pytest

from deployer import api, intake
from deployer.app import MAX_BODY
from deployer.openapi import document
from orchestrator.deploy.request import build
from tests.fixtures.deployer.harness import deploy_request
from tests.fixtures.deployer.service import AUTH, MINIMAL, deployer_app
from tests.openapi_contract import check_answer, documented, served
from tests.unit.test_config_hierarchy import load
from totem.contracts import deploy_request as contract
from totem.contracts.canary import DEFAULT_STEPS

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def service():
    with deployer_app(TOTEM_DEPLOYER_DRAIN="3") as app:
        yield app


def test_the_minimal_request_is_accepted_and_shown_with_its_defaults(service):
    client = service.test_client()
    answer = client.post("/apps", json=MINIMAL, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    assert service.dispatched == [("deployer.run_app", "mini")]
    shown = client.get(answer.headers["Location"]).get_json()
    assert shown["state"] == "NEW" and shown["mode"] == "blue-green" and shown["upstream"] == "mini-v1-8080"
    request = shown["request"]
    assert request["meta-info"] == {"env": "unit", "cluster": "api", "deployer": "default"}  # the deployer's settings
    assert request["deployment"] == {
        "name": "mini",
        "version": "v1",
        "mode": "blue-green",
        "nodes": 1,
        "check": {"min-nodes": 1, "port": None, "path": "/", "timeout": "10s", "attempts": 10},
        "stop": {"timeout": "30s"},
        "drain": 3.0,  # TOTEM_DEPLOYER_DRAIN
        "ab-weight": 50,
        "canary": {"steps": DEFAULT_STEPS, "min-requests": 20},  # read only in mode canary
        "preview": {"enabled": False, "host-prefix": "preview.", "gate": "auto"},
    }
    assert request["templates"] == MINIMAL["templates"]
    assert request["proxy"] == {} and request["environment"] == {} and request["notifications"] == {}
    assert request["security"] == {"profile": "default"} and request["schedule"] is None
    assert shown["spec"]["drain"] == 3.0 and shown["spec"]["check_timeout"] == 10.0
    assert shown["spec"]["wiring"] == {}  # no proxy section: no routes
    assert [e["type"] for e in shown["timeline"]] == ["NEW_DEPLOYMENT"]
    assert shown["timeline"][0]["details"] == {"job": None, "git": None}


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda r: r.pop("deployment"), "body.deployment: required"),
        (lambda r: r["deployment"].pop("name"), "body.deployment.name: required"),
        (lambda r: r["deployment"].pop("version"), "body.deployment.version: required"),
        (lambda r: r["templates"]["app"]["args"].pop("image"), "body.templates.app.args.image: required"),
        (lambda r: r.update({"meta-info": {"git": {"owner": "a", "repo": "b", "ref": "c"}}}), None),
    ],
)
def test_a_missing_required_field_is_named_on_one_line(service, change, message):
    body = copy.deepcopy(MINIMAL)
    change(body)
    answer = service.test_client().post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["message"] == (message or "body.meta-info.git.commit: required")
    assert error["details"]["errors"][0] == {"path": error["message"].split(":")[0], "message": "required"}
    assert service.keys() == 0


def test_given_values_win_over_defaults():
    request = {"deployment": {"check": {"path": "/ready"}, "mode": "a/b"}, "security": {}}
    filled = contract.with_defaults(request, intake.schema_for("prod", "east", 1.0))
    assert filled["deployment"]["check"] == {
        "path": "/ready",
        "min-nodes": 1,
        "port": None,
        "timeout": "10s",
        "attempts": 10,
    }
    assert filled["deployment"]["mode"] == "a/b" and filled["security"] == {"profile": "default"}
    assert filled["meta-info"]["env"] == "prod" and filled["deployment"]["drain"] == 1.0
    assert request == {"deployment": {"check": {"path": "/ready"}, "mode": "a/b"}, "security": {}}  # a copy


def test_the_served_schema_shows_the_defaults(service):
    client = service.test_client()
    schema = client.get("/schemas/deploy-request-v1").get_json()
    assert client.get("/schemas/deploy-request-v1.json").get_json() == schema
    assert schema["required"] == ["deployment", "templates"]
    meta = schema["properties"]["meta-info"]["properties"]
    assert meta["env"]["default"] == "unit" and meta["cluster"]["default"] == "api"
    deployment = schema["properties"]["deployment"]["properties"]
    assert deployment["drain"]["default"] == 3.0 and deployment["nodes"]["default"] == 1
    assert schema["properties"]["notifications"]["default"] == {}
    assert "hosts" in schema["properties"]["proxy"]["properties"]  # the proxy section as the deployer checks it
    served = client.get("/openapi.json").get_json()["components"]["schemas"]["DeployRequest"]
    assert served["properties"]["meta-info"]["properties"]["cluster"]["default"] == "api"
    assert served["properties"]["proxy"] == {"$ref": "#/components/schemas/Proxy"}


def test_what_the_orchestrator_sends_is_accepted_unchanged(service):
    config, _ = load("master", commit=SHA)
    job = {
        "id": "job-1",
        "owner": "acme",
        "repo": "shop",
        "ref": "master",
        "commit": SHA,
        "config": config,
        "hooks": {"builder:image-factory": {"status": "success", "result": {"image": "reg/acme-shop:1"}}},
    }
    request = build(job, "production", config["deployers"]["production"], "prod", "east", "http://o/jobs/job-1")
    headers = {**AUTH, "Idempotency-Key": "job-1-production"}
    answer = service.test_client().post("/apps", json=request, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    shown = service.test_client().get(answer.headers["Location"]).get_json()["request"]
    sent = copy.deepcopy(request)
    sent["environment"]["DB_PASSWORD"]["value"] = "***"
    for section, values in sent.items():  # every value sent is kept; only absent fields were added
        if isinstance(values, dict):
            assert _subset(values, shown[section]), section
        else:
            assert shown[section] == values


def _subset(small, big) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and _subset(v, big[k]) for k, v in small.items())
    return small == big


@pytest.mark.parametrize("field", ["owner", "repo", "ref", "commit"])
def test_a_trailing_newline_is_refused(field):
    git = {"owner": "acme", "repo": "shop", "ref": "master", "commit": SHA}
    git[field] += "\n"  # Python's "$" would match before it; JSON Schema's does not
    found = contract.problems({**MINIMAL, "meta-info": {"git": git}})
    assert {p["path"] for p in found} == {f"body.meta-info.git.{field}"}  # a 41-character commit is also too long
    assert "does not match" in found[0]["message"]


# -- the OpenAPI document ------------------------------------------------------------------------
def test_every_route_is_documented(service):
    # by shape: the document names a deployment `{id}`, the route `<deployment_id>`
    assert served(service, named=False) == documented(document(), named=False)


def test_statuses_the_routes_send_are_documented():
    paths = document()["paths"]
    statuses = lambda p, m: set(paths[p][m]["responses"])  # noqa: E731
    assert {"200", "202", "400", "401", "413", "415", "503"} <= statuses("/apps", "post")
    assert {"202", "400", "401", "404", "409", "413", "415", "503"} <= statuses("/apps/{name}/rollback", "post")
    assert {"202", "401", "404", "409", "503"} <= statuses("/apps/{name}/versions/{version}", "delete")
    assert {"200", "503"} <= statuses("/health", "get")
    assert {"200", "404"} <= statuses("/schemas/{name}", "get")
    assert "200" in statuses("/schemas", "get") and "200" in statuses("/openapi.json", "get")
    assert paths["/apps/{name}/rollback"]["post"]["requestBody"]["required"] is False
    post = paths["/apps"]["post"]
    assert post["security"] == [{"bearer": []}] and post["parameters"][0]["name"] == "Idempotency-Key"
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Accepted"
    }


def test_parameters_carry_the_patterns_the_routes_check():
    paths = document()["paths"]
    name = paths["/apps/{name}"]["parameters"][0]["schema"]
    assert name["pattern"] == contract.NAME_PATTERN == api.APP_NAME.pattern
    version = paths["/apps/{name}/versions/{version}"]["parameters"][1]["schema"]
    assert version["pattern"] == contract.VERSION_PATTERN
    assert paths["/deployments/{id}"]["parameters"][0]["schema"]["pattern"] == contract.DEPLOYMENT_ID_PATTERN
    assert paths["/schemas/{name}"]["parameters"][0]["schema"]["enum"] == [
        "deploy-request-v1",
        "deploy-request-v1.json",
    ]
    assert str(MAX_BODY) in document()["info"]["description"]


def test_served_answers_match_their_documented_schemas(service):
    check = functools.partial(check_answer, service, document())
    client = service.test_client()
    body = deploy_request("shop", "v1", "img:1", "shop.localhost")
    accepted = client.post("/apps", json=body, headers=AUTH)
    check(accepted)
    check(client.post("/apps", json=MINIMAL, headers=AUTH))
    check(client.get(accepted.headers["Location"]))
    check(client.get("/apps"))
    check(client.get("/apps/shop"))
    check(client.get("/apps/shop/versions"))
    check(client.get("/apps/shop/versions/v1"))
    check(client.get("/schemas"))
    assert check(client.get("/apps/nope"))["error"]["code"]
