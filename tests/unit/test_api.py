"""The JSON error envelope, body validation and bearer auth, through a real Flask app."""

import pytest
import redis

from totem.access.guard import require
from totem.api import ApiError, create_service_app, json_body
from totem.net import free_port
from totem.settings import Settings
from totem.store import connect

SCHEMA = {
    "type": "object",
    "required": ["git"],
    "properties": {"git": {"type": "object", "required": ["owner"], "properties": {"owner": {"type": "string"}}}},
}


@pytest.fixture
def client():
    settings = Settings.from_env({"TOTEM_API_TOKEN": "t0ken-value", "TOTEM_HOOK_SECRET": "x" * 16})
    app = create_service_app("test", dependencies=(), settings=settings)

    @app.post("/things")
    @require("deploy", audited=False)
    def create_thing():
        return {"ok": json_body(SCHEMA)}, 201

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/redis-down")
    def redis_down():
        # a real client on a port nobody listens on: the ConnectionError a Redis outage raises
        redis.Redis(port=free_port(), socket_connect_timeout=0.5).ping()

    @app.get("/etcd-down")
    def etcd_down():
        connect(f"etcd://127.0.0.1:{free_port()}").get("/anything")

    @app.get("/teapot")
    def teapot():
        raise ApiError(418, "teapot", "short and stout", {"spout": True})

    return app.test_client()


AUTH = {"Authorization": "Bearer t0ken-value"}


def error_of(response):
    assert response.is_json, response.data
    return response.get_json()["error"]


def test_valid_request_passes(client):
    response = client.post("/things", json={"git": {"owner": "o"}}, headers=AUTH)
    assert response.status_code == 201


def test_validation_failure_names_the_path(client):
    response = client.post("/things", json={"git": {"owner": 5}}, headers=AUTH)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert error["message"].startswith("body.git.owner:")
    assert error["details"]["errors"][0]["path"] == "body.git.owner"


def test_invalid_json_and_wrong_media_type(client):
    assert (
        error_of(client.post("/things", data="{nope", headers={**AUTH, "Content-Type": "application/json"}))["code"]
        == "invalid_json"
    )
    response = client.post("/things", data="x=1", headers=AUTH)
    assert response.status_code == 415


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dDB rZW4=", "Bearer "])
def test_write_needs_the_bearer_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/things", json={"git": {"owner": "o"}}, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_tracebacks_and_no_html(client):
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert error_of(response)["code"] == "internal_error"
    assert error_of(client.get("/nowhere"))["code"] == "not_found"
    response = client.delete("/things")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_custom_errors_and_request_ids(client):
    response = client.get("/teapot", headers={"X-Request-Id": "abc-123"})
    assert response.status_code == 418
    assert error_of(response) == {"code": "teapot", "message": "short and stout", "details": {"spout": True}}
    assert response.headers["X-Request-Id"] == "abc-123"
    assert len(client.get("/teapot", headers={"X-Request-Id": "bad id!"}).headers["X-Request-Id"]) == 32


def test_writes_without_a_token_are_refused_when_none_is_configured():
    app = create_service_app("test", dependencies=(), settings=Settings.from_env({}))

    @app.post("/w")
    @require("deploy", audited=False)
    def write():
        return {}

    response = app.test_client().post("/w", json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/redis-down", "/etcd-down"])
def test_a_dependency_that_does_not_answer_is_a_503_to_retry(client, path):
    response = client.get(path)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert error_of(response)["code"] == "unavailable"
