"""Every image factory route against hostile input (Flask test client, the real Redis under a
prefix of this module's own): never a 5xx, errors in the JSON envelope, every answer one the
OpenAPI document lists for its route (with a body matching its schema), and nothing queued."""

from __future__ import annotations

import json
import uuid

import pytest

from image_factory.app import MAX_BODY, create_app
from image_factory.openapi import document
from tests.images.image_factory.environment import factory_app
from tests.images.image_factory.github_push import delivery, push_payload
from tests.openapi_contract import check_answer
from totem.net import free_port
from totem.settings import Settings

SHA = "c" * 40
SPEC = document()
DEEP_ARRAYS = "[" * 1000 + "]" * 1000
DEEP_OBJECTS = '{"a":' * 1000 + "1" + "}" * 1000
HUGE = "9" * 5000
LONG = "x" * 5000
# bodies no JSON endpoint may take (each a 400)
BAD_JSON: dict[str, str | bytes] = {
    "1000-deep arrays": DEEP_ARRAYS,
    "1000-deep objects": DEEP_OBJECTS,
    "NaN": '{"owner": NaN}',
    "Infinity": '{"owner": Infinity}',
    "-Infinity": "[-Infinity]",
    "1e999": '{"force": 1e999}',
    "a 5000-digit integer": '{"force": ' + HUGE + "}",
    "empty": "",
    "whitespace": " \n\t",
    "truncated": '{"owner": "a"',
    "not UTF-8": b'{"owner": "\xff\xfe"}',
    "a byte-order mark": "\ufeff{}",
    "null": "null",
    "an array": "[]",
    "a string": '"owner"',
    "a huge number": "-" + HUGE + ".5e-" + HUGE,
}


def build_body(**names: object) -> str:
    return json.dumps({"owner": "acme", "repo": "app", "ref": "main", "commit": SHA, **names})


# well-formed JSON with names no build may have (each a 400)
BAD_BUILDS = {
    "a lone surrogate": build_body(owner="\ud800"),
    "NUL in the owner": build_body(owner="ac\x00me"),
    "fullwidth letters": build_body(owner="ａｃｍｅ"),
    "a trailing newline": build_body(commit=SHA + "\n"),
    "a 5000-character repo": build_body(repo=LONG),
    "a 5000-character ref": build_body(ref=LONG),
    "a unicode ref": build_body(ref="fea☃ture/ß"),
    "a ref with ..": build_body(ref="a/../b"),
    "a number as the commit": build_body(commit=int("1" * 40)),
    "a list as the owner": build_body(owner=["acme"]),
    "force as a string": build_body(force="yes"),
    "an extra field": build_body(shell="$(id)"),
}


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    """(env, client, queued, app): an image factory app of this module's own; its keys are removed after."""
    with factory_app(tmp_path_factory.mktemp("hostile"), images=False) as (env, app, queued):
        yield env, app.test_client(), queued, app


def answered(app, response, status: int | tuple[int, ...]) -> None:
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code < 500 or response.status_code in expected, response.get_data()[:300]
    assert response.status_code in expected, (response.status_code, response.get_data()[:300])
    if response.status_code >= 400 and response.request.path != "/health":  # /health: its report, degraded or not
        assert response.is_json and set(response.get_json()["error"]) == {"code", "message", "details"}
    check_answer(app, SPEC, response)


def auth(env) -> dict[str, str]:
    return {"Authorization": f"Bearer {env.api_token}"}


@pytest.mark.parametrize("body", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_post_builds_refuses_bodies_that_are_not_strict_json(factory, body):
    env, client, queued, app = factory
    response = client.post("/builds", data=body, headers={**auth(env), "Content-Type": "application/json"})
    answered(app, response, 400)
    assert queued == []


@pytest.mark.parametrize("body", BAD_BUILDS.values(), ids=BAD_BUILDS.keys())
def test_post_builds_refuses_names_no_build_may_have(factory, body):
    env, client, queued, app = factory
    response = client.post("/builds", data=body, headers={**auth(env), "Content-Type": "application/json"})
    answered(app, response, 400)
    assert response.get_json()["error"]["code"] in ("invalid_git_name", "validation_failed")
    assert queued == []


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonx"],
)
def test_post_builds_wants_json(factory, content_type):
    env, client, queued, app = factory
    headers = {**auth(env), **({"Content-Type": content_type} if content_type else {})}
    answered(app, client.post("/builds", data=build_body(), headers=headers), 415)
    assert queued == []


def test_post_builds_over_the_body_limit_is_413_before_the_token_is_checked(factory):
    env, client, queued, app = factory
    body = build_body(pad="x" * MAX_BODY)
    for headers in (auth(env), {"Authorization": "Bearer wrong"}, {}):
        response = client.post("/builds", data=body, headers={**headers, "Content-Type": "application/json"})
        answered(app, response, 413)
        assert response.get_json()["error"]["details"] == {"limit": MAX_BODY}
    assert queued == []


def signed_push(env, client, payload: bytes | dict, content_type: str | None = "application/json", **headers: str):
    body, signed = delivery(env.hook_secret, payload, delivery_id=f"{env.owner}-{uuid.uuid4()}")
    if content_type is None:
        del signed["Content-Type"]
    else:
        signed["Content-Type"] = content_type
    return client.post("/hooks/github", data=body, headers={**signed, **headers})


@pytest.mark.parametrize("body", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_signed_pushes_that_are_not_strict_json_are_400(factory, body):
    env, client, queued, app = factory
    payload = body if isinstance(body, bytes) else body.encode()
    answered(app, signed_push(env, client, payload), 400)
    assert queued == []


def push_with(env, **changes: object) -> dict:
    payload = push_payload(env.owner, "app", "main", SHA)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = payload
        for parent in parents:
            target = target[parent]
        target[last] = value
    return payload


HOSTILE_PUSHES = {
    "repository a list": {"repository": ["app"]},
    "owner a number": {"repository__owner": {"login": 7}},
    "owner a list": {"repository__owner": ["acme"]},
    "a 5000-character repo": {"repository__name": LONG},
    "a unicode repo": {"repository__name": "äpp"},
    "ref a number": {"ref": 1},
    "ref a dict": {"ref": {"refs": "heads"}},
    "a unicode ref": {"ref": "refs/heads/☃"},
    "a 5000-character ref": {"ref": "refs/heads/" + LONG},
    "a trailing newline in the ref": {"ref": "refs/heads/main\n"},
    "after a number": {"after": 1},
    "after 5000 characters": {"after": "a" * 5000},
    "after with a trailing newline": {"after": SHA + "\n"},
    "after a 4000-digit integer": {"after": int("9" * 4000)},
}


@pytest.mark.parametrize("changes", HOSTILE_PUSHES.values(), ids=HOSTILE_PUSHES.keys())
def test_signed_pushes_with_hostile_fields_are_400(factory, changes):
    env, client, queued, app = factory
    payload = json.dumps(push_with(env, **changes), ensure_ascii=False).encode()
    answered(app, signed_push(env, client, payload), 400)
    assert queued == []


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
)
def test_signed_pushes_in_other_content_types_are_refused(factory, content_type):
    env, client, queued, app = factory
    payload = json.dumps(push_with(env)).encode()
    answered(app, signed_push(env, client, payload, content_type), (400, 415))
    assert queued == []


@pytest.mark.parametrize("event", [LONG, "pùsh", "push\r\nX-Injected: 1".replace("\r\n", " "), "../push", ""])
def test_hostile_event_headers_are_400(factory, event):
    env, client, queued, app = factory
    response = signed_push(env, client, json.dumps(push_with(env)).encode(), **{"X-GitHub-Event": event})
    answered(app, response, 400)
    assert queued == []


def test_unsigned_hostile_bodies_are_401(factory):
    env, client, queued, app = factory
    for body in (DEEP_ARRAYS, '{"a": NaN}', "", LONG):
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00"}
        answered(app, client.post("/hooks/github", data=body, headers=headers), 401)
    assert queued == []


def test_a_long_or_unicode_delivery_id_is_kept_short_and_the_push_queued(factory):
    env, client, queued, app = factory
    payload = json.dumps(push_with(env)).encode()
    for suffix in ("☃" * 300, LONG):
        answered(
            app,
            signed_push(env, client, payload, **{"X-GitHub-Delivery": f"{env.owner}-{suffix}"}),
            (200, 202),
        )
    assert len(queued) == 1  # the second push of the same commit reuses the first build
    queued.clear()


NOT_BUILD_IDS = [
    LONG,
    "é☃",
    "b" + "0" * 5000,
    "%00",
    "B0123456789",
    "b0123456789ABCDEF",
    "b" + "0" * 8,
    "..%2F..%2Fetc",
]


@pytest.mark.parametrize("build_id", NOT_BUILD_IDS)
@pytest.mark.parametrize("suffix", ["", "/log", "/log?follow=1"])
def test_paths_that_are_no_build_are_404(factory, build_id, suffix):
    _, client, _, app = factory
    path = f"/builds/{build_id}{suffix}"
    answered(app, client.get(path), 404)


BAD_QUERIES = [
    "limit=" + HUGE,
    "limit=²",
    "limit=١٢",
    "limit=-1",
    "limit=0",
    "limit=1e2",
    "limit=0x10",
    "limit= 5",
    "limit=101",
    "offset=" + HUGE,
    "offset=-0",
    "offset=1000001",
    "owner=" + LONG,
    "owner=é",
    "owner=%00",
    "owner=acme%0A",
    "repo=..",
    "ref=a//b",
    "ref=☃",
    "commit=" + SHA.upper(),
    "commit=" + SHA + "%0A",
    "status=" + LONG,
    "status=Queued",
    "status=",
    "owner=",
    "repo=",
    "ref=",
    "commit=",
    "limit=",
    "offset=",
    "owner=a&owner=b",
    "status=queued&status=failed",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_list_queries_are_400_naming_the_parameter(factory, query):
    _, client, _, app = factory
    response = client.get(f"/builds?{query}")
    answered(app, response, 400)
    assert response.get_json()["error"]["details"]["field"] == query.split("=")[0]


@pytest.fixture(scope="module")
def finished_build(factory):
    """A finished build with a two-line log (so a followed log ends at once)."""
    _, _, _, app = factory
    store = app.extensions["image_factory"].factory.store
    record = store.create({"owner": "hostile", "repo": "app", "ref": "main", "commit": SHA}, "test")
    store.finish(record["id"], "succeeded")
    for fields in ({"line": "one"}, {"line": "two"}, {"eof": "succeeded"}):
        store.redis.xadd(store.key("log", record["id"]), fields)
    return record["id"]


@pytest.mark.parametrize("follow", ["2", "on", "TRUE", "", "☃", LONG])
def test_follow_must_be_a_known_value(factory, finished_build, follow):
    _, client, _, app = factory
    path = f"/builds/{finished_build}/log"
    response = client.get(path, query_string={"follow": follow})
    answered(app, response, 400)
    assert response.get_json()["error"]["details"]["field"] == "follow"


@pytest.mark.parametrize(
    "last_event_id",
    [
        LONG,
        "☃-1",
        "-",
        "1-",
        "99999999999999999999999-1",
        f"{2**64}-0",
        f"{2**64 - 1}-{2**64 - 1}",  # the last id there is: Redis refuses to range after it
        "0-0",
        "1-1",
    ],
)
def test_hostile_last_event_ids_still_stream_the_log(factory, finished_build, last_event_id):
    _, client, _, app = factory
    path = f"/builds/{finished_build}/log"
    response = client.get(path, query_string={"follow": "1"}, headers={"Last-Event-ID": last_event_id})
    answered(app, response, 200)
    text = response.get_data(as_text=True)
    assert text.rstrip().endswith("event: end\ndata: succeeded")
    assert app.extensions["image_factory"].followers.taken == 0


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/builds"), ("DELETE", "/builds/b0123456789"), ("POST", "/health"), ("PATCH", "/")]
)
def test_unrouted_methods_and_paths_are_in_the_envelope(factory, method, path):
    _, client, _, app = factory
    answered(app, client.open(path, method=method), (404, 405))


def test_every_hostile_answer_left_the_factory_working(factory):
    env, client, queued, app = factory
    assert client.get("/health").status_code == 200
    body = build_body(owner=env.owner, commit="d" * 40)
    response = client.post("/builds", data=body, headers={**auth(env), "Content-Type": "application/json"})
    answered(app, response, 202)
    assert queued == [response.get_json()["build"]["id"]]
    assert app.extensions["image_factory"].followers.taken == 0


def test_a_redis_outage_is_a_documented_503_on_every_route_that_needs_it():
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_app(Settings(hook_secret="s", api_token="t", redis_url=nowhere), enqueue=lambda _id: None)
    client, token = app.test_client(), {"Authorization": "Bearer t"}
    body = {"owner": "acme", "repo": "app", "ref": "main", "commit": SHA}
    pushed, signed = delivery("s", push_payload("acme", "app", "main", SHA))
    for method, path, options in (
        ("POST", "/hooks/github", {"data": pushed, "headers": signed}),
        ("GET", "/builds", {}),
        ("GET", "/builds/b0123456789", {}),
        ("GET", "/builds/b0123456789/log", {}),
        ("GET", "/builds/b0123456789/log?follow=1", {}),
        ("POST", "/builds", {"json": body, "headers": token}),
        ("GET", "/health", {}),
    ):
        response = client.open(path, method=method, **options)
        answered(app, response, 503)
        if path != "/health":
            assert response.headers["Retry-After"].isdigit()
    assert app.extensions["image_factory"].followers.taken == 0
