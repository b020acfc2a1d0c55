"""GET /audit through a real Flask app on the shared Redis (a prefix of each test's own): every parameter
checked (a 400 naming it), filters, the JSON-lines export, scopes, retention, and no token in any record."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import redis
from flask import g

from tests.unit.test_orchestrator_payloads import (
    commit,
    generic_hook,
    github_delivery,
    github_payload,
    unit_orchestrator,
)
from totem import signatures
from totem.access import guard
from totem.access.audit import AuditLog
from totem.access.audit_api import audit_blueprint, when
from totem.access.guard import require
from totem.api import create_service_app
from totem.settings import Settings, SettingsError

BOOT = "audit-boot-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {BOOT}"}
NOW = 1_800_000_000.0


@pytest.fixture
def service():
    prefix = f"test-audit-{uuid.uuid4().hex[:10]}:access"
    env = {**os.environ, "TOTEM_API_TOKEN": BOOT, "TOTEM_ACCESS_PREFIX": prefix, "TOTEM_INSECURE_DEV": "0"}
    settings = Settings.from_env(env)
    app = create_service_app("test", dependencies=(), settings=settings)
    app.register_blueprint(audit_blueprint)

    @app.post("/apps/<name>/rollback")
    @require("rollback")
    def rollback(name: str):
        guard.authorize("acme", "shop", ref="main")
        return {"ok": True}, 202

    @app.post("/other/<name>/rollback")
    @require("rollback")
    def other_rollback(name: str):
        guard.authorize("globex", "cart", ref="main")
        g.audit.setdefault("details", {})["note"] = "second"
        return {"ok": True}, 202

    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    app.audit = AuditLog(client, prefix)
    app.redis, app.prefix = client, prefix
    yield app
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def token(app, name: str, role: str = "viewer", scopes=None) -> dict:
    with app.app_context():
        value, _ = guard.access().tokens.create(name, role, scopes)
    return {"Authorization": f"Bearer {value}"}


def error_of(response, status: int = 400) -> dict:
    assert response.status_code == status, response.data
    return response.get_json()["error"]


@pytest.mark.parametrize(
    "query,parameter",
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("limit=%C2%B2", "limit"),  # '²' is a digit to str.isdigit
        ("limit=" + "9" * 30, "limit"),
        ("since=yesterday", "since"),
        ("since=10y", "since"),
        ("until=2026-13-01", "until"),
        ("until=", "until"),
        ("since=2h&until=3h", "since"),  # 2 h ago is after 3 h ago
        ("action=delete-everything", "action"),
        ("action=", "action"),
        ("format=xml", "format"),
        ("app=acme%2Fshop%20main", "app"),
        ("app=", "app"),
        ("actor=", "actor"),
        ("actor=a%0Ab", "actor"),
        ("actor=" + "x" * 301, "actor"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(service, query, parameter):
    error = error_of(service.test_client().get(f"/audit?{query}", headers=AUTH))
    assert error["code"] == "invalid_parameter"
    assert error["details"] == {"parameter": parameter}
    assert error["message"].startswith(parameter)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("10m", NOW - 600),
        ("24h", NOW - 86400),
        ("7d", NOW - 7 * 86400),
        ("2w", NOW - 14 * 86400),
        ("30s", NOW - 30),
        ("1700000000", 1_700_000_000.0),
        ("1700000000.25", 1_700_000_000.25),
        ("2026-12-01T10:00:00Z", 1_796_119_200.0),
        ("2026-12-01T10:00:00", 1_796_119_200.0),  # UTC unless it says otherwise
        ("2026-12-01T11:00:00+01:00", 1_796_119_200.0),
        ("2026-12-01", 1_796_083_200.0),
    ],
)
def test_times_are_unix_seconds_iso_8601_or_a_duration_ago(raw, expected):
    assert when("since", raw, NOW) == expected


def test_a_token_is_needed_any_valid_one(service):
    client = service.test_client()
    assert error_of(client.get("/audit"), 401)["code"] == "unauthorized"
    assert error_of(client.get("/audit", headers={"Authorization": "Bearer nope"}), 401)["code"] == "unauthorized"
    viewer = token(service, "auditor")
    answer = client.get("/audit", headers=viewer)
    assert answer.status_code == 200 and answer.get_json() == {"records": [], "count": 0}
    assert service.audit.query() == []  # reading the trail leaves no record


def test_filters_and_the_app_names_of_both_services(service):
    client = service.test_client()
    deployer = token(service, "ci-bot", "deployer")
    assert client.post("/apps/acme-shop-main/rollback", headers=deployer).status_code == 202
    assert client.post("/other/globex-cart-main/rollback", headers=AUTH).status_code == 202
    assert client.post("/apps/acme-shop-main/rollback").status_code == 401

    def found(query: str) -> list[tuple]:
        answer = client.get(f"/audit?{query}", headers=AUTH)
        assert answer.status_code == 200, answer.data
        body = answer.get_json()
        assert body["count"] == len(body["records"])
        return [(r["actor"], r["target"].get("app"), r["outcome"]) for r in body["records"]]

    every = found("")
    assert every == [  # newest first
        ("anonymous", "acme-shop-main", "denied"),
        ("bootstrap", "globex-cart-main", "ok"),
        ("ci-bot", "acme-shop-main", "ok"),
    ]
    assert found("app=acme-shop-main") == [every[0], every[2]]  # the deployer's name
    assert found("app=acme%2Fshop") == [every[2]]  # owner/repo: the refused request never reached authorize
    assert found("app=globex%2Fcart%2Fmain") == [every[1]]  # the orchestrator's name
    assert found("actor=ci-bot") == [every[2]]
    assert found("action=rollback&limit=2") == every[:2]
    assert found("action=deploy") == []
    assert found("since=1h") == every and found("until=1h") == []
    assert found(f"since={time.time() + 60:.0f}") == []


def test_the_export_is_json_lines_oldest_first(service):
    client = service.test_client()
    for _ in range(3):
        client.post("/apps/acme-shop-main/rollback", headers=AUTH)
    newest_first = client.get("/audit", headers=AUTH).get_json()["records"]
    for response in (
        client.get("/audit?format=jsonl", headers=AUTH),
        client.get("/audit", headers={**AUTH, "Accept": "application/x-ndjson"}),
    ):
        assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
        lines = response.get_data(as_text=True).splitlines()
        assert [json.loads(line) for line in lines] == list(reversed(newest_first))
    explicit = client.get("/audit?format=json", headers={**AUTH, "Accept": "application/x-ndjson"})
    assert explicit.is_json and explicit.get_json()["count"] == 3
    two = client.get("/audit?format=jsonl&limit=2", headers=AUTH).get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in two] == [r["id"] for r in reversed(newest_first[:2])]


def test_a_scoped_token_reads_the_records_of_its_repos_only(service):
    client = service.test_client()
    client.post("/apps/acme-shop-main/rollback", headers=AUTH)
    client.post("/other/globex-cart-main/rollback", headers=AUTH)
    service.audit.append("bootstrap", "bootstrap", "tokens", {"token": "someone"}, "ok", 201)
    scoped = token(service, "acme-reader", scopes=["acme/*"])
    records = client.get("/audit", headers=scoped).get_json()["records"]
    assert [r["target"]["app"] for r in records] == ["acme-shop-main"]
    assert len(client.get("/audit", headers=AUTH).get_json()["records"]) == 3


def test_no_record_holds_a_token_value(service):
    client = service.test_client()
    stored = token(service, "release-bot", "deployer")
    trigger = json.dumps({"actor": "octocat", "kind": "hook", "delivery": "d-1"})
    client.post("/apps/acme-shop-main/rollback", headers=stored)
    client.post("/apps/acme-shop-main/rollback", headers={**AUTH, "X-Totem-Trigger": trigger})
    client.post("/apps/acme-shop-main/rollback", headers={"Authorization": "Bearer totem_wrong-guess"})
    client.post("/apps/acme-shop-main/rollback", headers={**stored, "X-Forwarded-For": "10.0.0.1"})
    raw = json.dumps(service.redis.xrange(f"{service.prefix}:audit"))
    exported = client.get("/audit?format=jsonl", headers=AUTH).get_data(as_text=True)
    for secret in (stored["Authorization"], BOOT, "totem_wrong-guess"):
        value = secret.removeprefix("Bearer ")
        assert value not in raw and value not in exported
    actors = [r["actor"] for r in service.audit.query()]
    assert actors == ["release-bot", "anonymous", "octocat", "release-bot"]


def test_retention_trims_only_records_older_than_it(service):
    key = f"{service.prefix}:audit"
    old = {"time": 1000.0, "actor": "x", "action": "deploy", "target": {}, "outcome": "ok"}
    service.redis.xadd(key, {"record": json.dumps(old)}, id="1000000-0")
    service.audit.append("bootstrap", "bootstrap", "deploy", {"app": "a"}, "ok", 202)
    retention = Settings.from_env({}).audit_retention
    assert retention == 365 * 86400
    assert service.audit.trim(time.time() - retention) == 1
    assert [r["target"] for r in service.audit.query()] == [{"app": "a"}]
    assert service.audit.trim(time.time() - retention) == 0


@pytest.mark.parametrize("raw,seconds", [("90d", 90 * 86400), ("12h", 43200), ("30m", 1800), ("3600", 3600)])
def test_the_retention_setting_is_a_duration(raw, seconds):
    assert Settings.from_env({"TOTEM_AUDIT_RETENTION": raw}).audit_retention == seconds


@pytest.mark.parametrize("raw", ["forever", "0d", "-1d", "1y", "9" * 12])
def test_a_retention_that_is_no_duration_is_refused(raw):
    with pytest.raises(SettingsError, match="TOTEM_AUDIT_RETENTION"):
        Settings.from_env({"TOTEM_AUDIT_RETENTION": raw})


# -- the hook actor: the job keeps who the hook that set its commit acts for ------------------------------


def _job(unit, answer) -> dict:
    from orchestrator.jobs.store import JobStore

    assert answer.status_code == 202, answer.data
    return JobStore(unit.runtime).get(answer.get_json()["job"]["id"])


def _generic(unit, hook: dict, **headers: str):
    body = json.dumps(hook).encode()
    signed = {"Content-Type": "application/json", "X-Hook-Signature": signatures.sign(unit.secret, body), **headers}
    return unit.client.post("/hooks/generic", data=body, headers=signed)


def test_a_github_push_names_its_sender_and_delivery_on_the_job():
    with unit_orchestrator() as unit:
        owner, sha, delivery = f"o{unit.tag}", commit(), unit.delivery_id()
        body = github_payload("push", owner=owner, repo="shop", ref="main", sha=sha)
        body["sender"]["login"] = "octo-dev"
        raw, headers = github_delivery(unit.secret, body, "push", delivery=delivery)
        job = _job(unit, unit.client.post("/hooks/github", data=raw, headers=headers))
        assert job["trigger"] == {
            "actor": "octo-dev",
            "kind": "hook",
            "hook": "scm-push",
            "receiver": "github",
            "delivery": delivery,
            "source": "127.0.0.1",
        }
        del body["sender"]  # then the pusher
        raw, headers = github_delivery(unit.secret, {**body, "after": commit()}, "push")
        assert _job(unit, unit.client.post("/hooks/github", data=raw, headers=headers))["trigger"]["actor"] == owner


def test_a_generic_hook_names_its_optional_sender_and_only_the_commit_setting_hook_counts():
    with unit_orchestrator() as unit:
        owner, sha = f"o{unit.tag}", commit()
        first = _job(
            unit, _generic(unit, generic_hook(owner, "shop", "main", sha, "ci", "jenkins"), **{"X-Request-Id": "req-1"})
        )
        assert first["trigger"] == {
            "actor": "hook:ci",
            "kind": "hook",
            "hook": "ci",
            "receiver": "generic",
            "delivery": "req-1",
            "source": "127.0.0.1",
        }
        later = _job(unit, _generic(unit, generic_hook(owner, "shop", "main", sha, sender="someone-else")))
        assert later["trigger"] == first["trigger"]  # the builder hook did not set the commit
        newer = _job(unit, _generic(unit, generic_hook(owner, "shop", "main", commit(), sender="ci-author")))
        assert newer["trigger"]["actor"] == "ci-author" and newer["trigger"]["delivery"]  # a request id of its own
        bad = _generic(unit, generic_hook(owner, "shop", "main", commit(), sender="two\nlines"))
        assert error_of(bad)["details"] == {"field": "sender"}
