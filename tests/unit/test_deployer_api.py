"""The HTTP API: intake validation, auth, idempotency, views that never show secrets, rollback rules."""

from __future__ import annotations

import pytest

from deployer.records import add_event
from tests.fixtures.deployer.harness import deploy_request
from tests.fixtures.deployer.service import AUTH, deployer_app


@pytest.fixture
def service():
    with deployer_app() as app:
        yield app


def request_for(app="shop", version="v1", **deployment):
    return deploy_request(app, version, "img:1", f"{app}.localhost", **deployment)


def test_accepts_a_request_and_queues_the_app(service):
    answer = service.test_client().post("/apps", json=request_for(), headers=AUTH)
    assert answer.status_code == 202
    deployment = answer.get_json()["deployment"]
    assert deployment["state"] == "NEW" and deployment["upstream"] == "shop-v1-8080"
    assert answer.headers["Location"] == f"/deployments/{deployment['id']}"
    assert service.dispatched == [("deployer.run_app", "shop")]


@pytest.mark.parametrize("headers,status", [({}, 401), ({"Authorization": "Bearer wrong"}, 401)])
def test_write_endpoints_need_the_token(service, headers, status):
    client = service.test_client()
    assert client.post("/apps", json=request_for(), headers=headers).status_code == status
    assert client.post("/apps/shop/rollback", headers=headers).status_code == status
    assert client.delete("/apps/shop", headers=headers).status_code == status
    assert service.dispatched == []


@pytest.mark.parametrize(
    "change,path",
    [
        (lambda r: r["deployment"].update(nodes=40), "body.deployment.nodes"),
        (lambda r: r["deployment"].update(name="Bad Name"), "body.deployment.name"),
        (lambda r: r.pop("templates"), "body.templates: required"),
        (lambda r: r["meta-info"]["git"].pop("commit"), "body.meta-info.git.commit: required"),
        (lambda r: r["meta-info"]["git"].update(owner="../x"), "body.meta-info.git.owner"),
        (lambda r: r["deployment"].update(name="shop\n"), "body.deployment.name"),  # "$" is the end of the text
        (lambda r: r["deployment"].update(drain="2d"), "body.deployment.drain"),
        (lambda r: r["deployment"].update(drain="48h"), "body.deployment.drain: at most 86400 s"),
        (lambda r: r["deployment"].update({"ab-weight": "half"}), "body.deployment.ab-weight"),
        (lambda r: r["deployment"]["check"].update(path="/health\nbind :80"), "body.deployment.check.path"),
        (lambda r: r["environment"].update({"NOT-A-NAME": "x"}), "body.environment: name"),
        (lambda r: r.update(schedule="daily\nExecStart=/bin/sh"), "body.schedule"),
        (lambda r: r["proxy"]["hosts"]["public"].update(hostname="bad host"), "body.proxy.hosts.public.hostname"),
        (
            lambda r: r["proxy"]["hosts"]["public"]["locations"].update(api={"port": 9090, "path": "/api"}),
            "body.proxy.hosts",
        ),
        (lambda r: r["deployment"]["check"].update(timeout="soon"), "body.deployment.check.timeout"),
    ],
)
def test_rejects_bad_requests_with_the_error_envelope(service, change, path):
    body = request_for()
    change(body)
    answer = service.test_client().post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "validation_failed" and error["message"].startswith(path)
    assert "\n" not in error["message"]  # one line, the field first
    assert service.test_client().get("/apps").get_json()["apps"] == []
    assert service.dispatched == [] and service.keys() == 0


def test_rejects_non_json(service):
    answer = service.test_client().post("/apps", data="x", headers=AUTH)
    assert answer.status_code == 415 and answer.get_json()["error"]["code"] == "unsupported_media_type"


def test_idempotency_key_returns_the_first_deployment(service):
    client = service.test_client()
    first = client.post("/apps", json=request_for(), headers={**AUTH, "Idempotency-Key": "job-1-default"})
    again = client.post("/apps", json=request_for(), headers={**AUTH, "Idempotency-Key": "job-1-default"})
    assert again.status_code == 200
    assert again.get_json()["deployment"]["id"] == first.get_json()["deployment"]["id"]
    assert len(client.get("/apps/shop").get_json()["deployments"]) == 1


def test_views_hide_encrypted_values(service):
    body = request_for()
    body["environment"]["TOKEN"] = {"value": "ciphertext-here", "encrypted": True}
    deployment_id = service.test_client().post("/apps", json=body, headers=AUTH).get_json()["deployment"]["id"]
    shown = service.test_client().get(f"/deployments/{deployment_id}").get_json()
    assert shown["request"]["environment"]["TOKEN"] == {"value": "***", "encrypted": True}
    assert "ciphertext-here" not in str(shown)
    assert [e["type"] for e in shown["timeline"]] == ["NEW_DEPLOYMENT"]


def test_lookups_and_not_found(service):
    client = service.test_client()
    client.post("/apps", json=request_for(), headers=AUTH)
    assert client.get("/apps/shop/versions").get_json()["versions"].keys() == {"v1"}
    assert client.get("/apps/shop/versions/v1").status_code == 200
    assert client.get("/apps/shop/versions/v9").status_code == 404
    assert client.get("/apps/sho").status_code == 404  # anchored: no prefix match
    assert client.get("/apps/nope").get_json()["error"]["code"] == "not_found"
    assert client.get("/deployments/nope-1").status_code == 404


def test_rollback_needs_an_earlier_promoted_version(service):
    client = service.test_client()
    deployment_id = client.post("/apps", json=request_for(), headers=AUTH).get_json()["deployment"]["id"]
    assert client.post("/apps/shop/rollback", headers=AUTH).status_code == 409  # in progress
    records = service.extensions["deployer"].ctx.records

    def promote(r):
        r["state"] = "PROMOTED"
        add_event(r, "DEPLOYMENT_PROMOTED")
        return r, None

    records.update(deployment_id, promote)
    records.set_live("shop", deployment_id)
    answer = client.post("/apps/shop/rollback", headers=AUTH)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "no_rollback_target"
    answer = client.post("/apps/shop/rollback", json={"version": "v1"}, headers=AUTH)
    assert answer.status_code == 202
    shown = client.get(answer.headers["Location"]).get_json()
    assert shown["version"] == "v1" and "ROLLBACK_REQUESTED" in [e["type"] for e in shown["timeline"]]


def test_schema_and_openapi_are_served(service):
    client = service.test_client()
    assert client.get("/schemas").get_json()["schemas"] == {"deploy-request-v1": "/schemas/deploy-request-v1"}
    assert client.get("/schemas/deploy-request-v1").get_json()["title"] == "Totem deploy request"
    document = client.get("/openapi.json").get_json()
    assert {"/apps", "/apps/{name}/rollback", "/deployments/{id}"} <= set(document["paths"])
    assert "DeployRequest" in document["components"]["schemas"]


def test_openapi_document_is_valid(service):
    from openapi_spec_validator import validate

    from deployer.openapi import document

    validate(document())
    validate(service.test_client().get("/openapi.json").get_json())  # as served, this deployer's defaults in it
