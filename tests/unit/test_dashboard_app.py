"""The dashboard's pages and security with stand-in service clients: escaping, sign-in, CSRF, refusals."""

from __future__ import annotations

import re

import pytest

from totem.settings import Settings
from totem_client import Clients, ServiceError
from totem_dashboard.app import create_app

TOKEN = "unit-test-token"
WHO = {TOKEN: {"name": "bootstrap", "role": "admin", "scopes": ["*"], "envs": ["*"]}}  # what /whoami says
HOSTILE = "<script>alert('x')</script>"


def record(version: str, state: str = "PROMOTED") -> dict:
    return {
        "id": f"shop-{version}-1",
        "app": "shop",
        "version": version,
        "state": state,
        "mode": "blue-green",
        "upstream": f"shop-{version}-8080",
        "updated": "2026-01-01T00:00:01.000Z",
        "error": None,
        "instances": {f"shop-{version}-1-1": {"host": "local", "address": "127.0.0.1", "port": 20001}},
        "spec": {
            "check_path": "/health",
            "wiring": {
                "shop.localhost": {
                    "aliases": [],
                    "locations": {"shop_home": {"path": "/", "force-ssl": False, "allowed": [], "denied": []}},
                }
            },
        },
        "request": {"meta-info": {"git": {"owner": "acme", "repo": "shop", "ref": "main", "commit": "a" * 40}}},
        "timeline": [
            {"type": "NEW_DEPLOYMENT", "date": "2026-01-01T00:00:00.000Z", "details": {"note": HOSTILE}},
            {
                "type": "CHECK_PASSED",
                "date": "2026-01-01T00:00:01.000Z",
                "details": {"checked": {f"shop-{version}-1-1": 200}},
            },
        ],
    }


class Deployer:
    def __init__(self):
        self.calls: list[tuple] = []
        self.token = None
        self.refuse = False

    def with_token(self, token):
        self.token = token
        return self

    def request(self, method, path, auth=False, **kwargs):
        assert (method, path, auth) == ("GET", "/whoami", True), (method, path)
        if self.token not in WHO:
            raise ServiceError("deployer", 401, "unauthorized", "invalid, expired or revoked bearer token")
        return WHO[self.token]

    def apps(self):
        return [{"name": "shop", "live": "shop-v2-1", "latest": record("v2")}]

    def app(self, name):
        if name != "shop":
            raise ServiceError("deployer", 404, "not_found", f"no app named {name!r}")
        return {"name": "shop", "live": "shop-v2-1", "deployments": [record("v2"), record("v1", "DECOMMISSIONED")]}

    def deployment(self, deployment_id):
        return record(deployment_id.split("-")[1])

    def rollback(self, name, version=None):
        if self.refuse:
            raise ServiceError("deployer", 401, "unauthorized", "invalid, expired or revoked bearer token")
        self.calls.append(("rollback", name, version, self.token))
        return record(version or "v1", "NEW")

    def undeploy(self, name, version=None):
        self.calls.append(("undeploy", name, version, self.token))
        return {}

    def delivery(self, app=None, window=None):
        raise ServiceError("deployer", None, "unreachable", "cannot reach it")


class Orchestrator:
    def with_token(self, token):
        return self

    def job(self, job_id):
        raise ServiceError("orchestrator", None, "unreachable", "cannot reach it")

    def audit(self, **filters):
        raise ServiceError("orchestrator", None, "unreachable", "cannot reach it")

    def jobs(self, **filters):
        return {
            "jobs": [
                {
                    "id": "j1",
                    "owner": "acme",
                    "repo": HOSTILE,
                    "ref": "main",
                    "commit": "b" * 40,
                    "state": "COMPLETE",
                    "updated": 0,
                }
            ],
            "total": 1,
        }


class Factory:
    log_text = "step one\n\x1b[32mgreen <b>\x1b[0m\nstep three\n"

    def with_token(self, token):
        return self

    def builds(self, **filters):
        return {"builds": []}

    def build(self, build_id):
        return {"id": build_id, "status": "running", "owner": "acme", "repo": "shop", "ref": "main", "commit": "c" * 40}

    def log(self, build_id):
        return self.log_text


@pytest.fixture
def deployer():
    return Deployer()


@pytest.fixture
def client(deployer, monkeypatch):
    monkeypatch.delenv("TOTEM_DASHBOARD_SECRET", raising=False)
    app = create_app(Settings(api_token=TOKEN), Clients(Orchestrator(), deployer, Factory()))
    return app.test_client()


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, token: str = TOKEN):
    return client.post("/login", data={"token": token, "csrf": csrf(client, "/login"), "next": "/apps/shop"})


def test_pages_escape_what_the_services_say(client):
    page = client.get("/apps/shop").get_data(as_text=True)
    assert HOSTILE not in page and "\\u003cscript\\u003e" in page
    assert "1/1 healthy" in page and "GET /health → 200" in page
    jobs = client.get("/jobs").get_data(as_text=True)
    assert HOSTILE not in jobs and "&lt;script&gt;" in jobs


def test_the_live_part_alone_is_sent_to_the_page_script(client):
    whole = client.get("/apps").get_data(as_text=True)
    part = client.get("/apps", headers={"X-Fragment": "1"}).get_data(as_text=True)
    assert "<html" in whole and "<html" not in part and 'data-app="shop"' in part


def test_filters_narrow_the_apps_list(client):
    assert 'data-app="shop"' in client.get("/apps?owner=acme&ref=main").get_data(as_text=True)
    assert 'data-app="shop"' not in client.get("/apps?repo=other").get_data(as_text=True)
    assert 'data-app="shop"' not in client.get("/apps?q=nothing-like-it").get_data(as_text=True)


def test_sign_in_keeps_the_token_sealed_in_a_strict_http_only_cookie(client):
    answer = sign_in(client)
    assert answer.status_code == 302 and answer.headers["Location"] == "/apps/shop"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie


def test_a_wrong_token_or_a_missing_csrf_token_is_refused(client):
    assert sign_in(client, "wrong").status_code == 401
    assert client.post("/login", data={"token": TOKEN}).status_code == 400
    assert "signed in" not in client.get("/apps").get_data(as_text=True)


def test_sign_in_never_redirects_elsewhere(client):
    answer = client.post("/login", data={"token": TOKEN, "csrf": csrf(client, "/login"), "next": "//elsewhere.test/"})
    assert answer.headers["Location"] == "/apps"


def test_actions_without_a_token_are_refused(client, deployer):
    form = {"csrf": csrf(client, "/apps/shop/confirm/rollback?version=v1"), "version": "v1"}
    answer = client.post("/apps/shop/rollback", data=form)
    assert answer.status_code == 401 and "Sign in with the API token" in answer.get_data(as_text=True)
    assert deployer.calls == []


def test_actions_need_the_forms_csrf_token(client, deployer):
    sign_in(client)
    assert client.post("/apps/shop/rollback", data={"version": "v1"}).status_code == 400
    assert client.post("/apps/shop/rollback", data={"version": "v1", "csrf": "forged"}).status_code == 400
    assert deployer.calls == []


def test_rollback_redeploy_and_undeploy_act_with_the_operators_token(client, deployer):
    sign_in(client)
    token = csrf(client, "/apps/shop/confirm/rollback?version=v1")
    assert client.post("/apps/shop/rollback", data={"csrf": token, "version": "v1"}).status_code == 302
    client.post("/apps/shop/redeploy", data={"csrf": token})
    client.post("/apps/shop/undeploy", data={"csrf": token, "version": "v1"})
    client.post("/apps/shop/undeploy", data={"csrf": token})
    assert deployer.calls == [
        ("rollback", "shop", "v1", TOKEN),
        ("rollback", "shop", "v2", TOKEN),
        ("undeploy", "shop", "v1", TOKEN),
        ("undeploy", "shop", None, TOKEN),
    ]
    assert "Rollback of shop to v1 requested" in client.get("/apps/shop").get_data(as_text=True)


def test_a_token_the_deployer_no_longer_accepts_ends_the_session(client, deployer):
    sign_in(client)
    deployer.refuse = True
    answer = client.post("/apps/shop/rollback", data={"csrf": csrf(client, "/apps/shop"), "version": "v1"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Signed out: the deployer no longer accepts your token" in page and "revoked bearer token" in page
    assert "signed in as" not in client.get("/apps").get_data(as_text=True)


def test_unknown_actions_and_apps_are_not_found(client):
    assert client.get("/apps/shop/confirm/destroy").status_code == 404
    assert client.get("/apps/nope").status_code == 404


def test_build_log_lines_follow_from_an_offset_escaped_and_coloured(client):
    page = client.get("/builds/b123").get_data(as_text=True)
    assert '<span class="ansi-fg-32">green &lt;b&gt;</span>' in page and 'data-next="3"' in page
    Factory.log_text += "step four\n"
    try:
        more = client.get("/builds/b123/log-lines?after=3").get_json()
    finally:
        Factory.log_text = Factory.log_text.removesuffix("step four\n")
    assert more == {"html": "step four\n", "next": 4, "status": "running", "finished": False}


def test_security_headers(client):
    headers = client.get("/apps").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_an_unreachable_service_is_a_502_page(monkeypatch):
    from totem.net import free_port

    monkeypatch.delenv("TOTEM_DASHBOARD_SECRET", raising=False)
    app = create_app(Settings(deployer_url=f"http://127.0.0.1:{free_port()}"))
    answer = app.test_client().get("/apps")
    assert answer.status_code == 502 and "cannot reach" in answer.get_data(as_text=True)


def test_the_serve_command_runs_gunicorn_with_an_argument_list():
    from totem_dashboard import serve

    argv = serve.command("127.0.0.1:9500", 2)
    assert argv[0].endswith("/gunicorn") and argv[1:3] == ["-c", "python:totem.api.gunicorn_conf"]
    assert argv[3:5] == ["-b", "127.0.0.1:9500"]
    assert argv[-1] == "totem_dashboard.app:create_app()" and argv[argv.index("--workers") + 1] == "2"


def test_the_service_base_gives_health_request_ids_and_static_files(client):
    health = client.get("/health", headers={"X-Request-Id": "req-7"})
    assert health.status_code == 200 and health.get_json()["service"] == "dashboard"
    assert health.headers["X-Request-Id"] == "req-7"
    assert client.get("/static/dashboard.css").status_code == 200


def test_api_style_errors_use_the_json_envelope_and_pages_stay_html(client):
    lines = client.get("/builds/b123/log-lines", headers={"Accept": "application/json"})
    assert lines.status_code == 200 and lines.is_json
    missing = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    unknown_app = client.get("/apps/nope", headers={"Accept": "application/json"})
    assert unknown_app.status_code == 404 and unknown_app.get_json()["error"]["details"] == {"service": "deployer"}
