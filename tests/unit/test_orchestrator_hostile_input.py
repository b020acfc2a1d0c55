"""Every orchestrator route against hostile input: never a 5xx, always the JSON error envelope, a status
its OpenAPI operation lists, and nothing stored or queued when a hook is refused."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from orchestrator.api.openapi import document
from orchestrator.app import MAX_BODY
from tests.openapi_contract import check_answer
from tests.unit.test_orchestrator_payloads import (
    FORM,
    commit,
    form_encode,
    generic_hook,
    github_payload,
    payload,
    unit_orchestrator,
)
from totem.signatures import sign

DEEP_ARRAYS = "[" * 1000 + "]" * 1000
DEEP_OBJECTS = '{"a":' * 1000 + "1" + "}" * 1000
JSON_TYPE = "application/json"
SPEC = document()


@pytest.fixture
def unit():
    with unit_orchestrator(travis=True) as orchestrator:
        yield orchestrator


def check(unit, answer) -> dict:
    """The answer is no 5xx, in the envelope when an error, and what the document says of its route."""
    assert answer.status_code < 500, answer.get_data()[:300]
    data = check_answer(unit.client.application, SPEC, answer)
    if answer.status_code >= 400:
        assert data is not None and set(data["error"]) == {"code", "message", "details"}
    return data


def post_generic(unit, text: str | bytes, content_type: str = JSON_TYPE):
    raw = text.encode() if isinstance(text, str) else text
    headers = {"Content-Type": content_type, "X-Hook-Signature": sign(unit.secret, raw)}
    return unit.client.post("/hooks/generic", data=raw, headers=headers)


def post_github(unit, text: str | bytes, form: bool = False, content_type: str | None = None, event: str = "push"):
    raw = text.encode() if isinstance(text, str) else text
    if form:
        raw = urllib.parse.urlencode({"payload": raw}).encode()
    headers = {
        "Content-Type": (FORM if form else JSON_TYPE) if content_type is None else content_type,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": unit.delivery_id(),
        "X-Hub-Signature-256": sign(unit.secret, raw),
    }
    return unit.client.post("/hooks/github", data=raw, headers=headers)


def post_travis(unit, text: str):
    return unit.client.post("/hooks/travis", data={"payload": text}, headers={"Signature": unit.travis_key.sign(text)})


def hook_posts(unit):
    """(route, send(text)) for each way a hook body arrives, every one signed as its sender signs it."""
    return [
        ("/hooks/generic", lambda text: post_generic(unit, text)),
        ("/hooks/github", lambda text: post_github(unit, text)),
        ("/hooks/github", lambda text: post_github(unit, text, form=True)),
        ("/hooks/travis", lambda text: post_travis(unit, text)),
    ]


HOSTILE_JSON = {
    "1000 deep arrays": (DEEP_ARRAYS, "too_deep"),
    "1000 deep objects": (DEEP_OBJECTS, "too_deep"),
    "65 deep arrays": ("[" * 65 + "]" * 65, "too_deep"),
    "NaN": ('{"status": NaN}', "invalid_json"),
    "Infinity": ('{"status": Infinity}', "invalid_json"),
    "-Infinity": ('{"status": -Infinity}', "invalid_json"),
    "a float out of range": ('{"status": 1e400}', "invalid_json"),
    "an integer of 5000 digits": ('{"status": ' + "9" * 5000 + "}", "invalid_json"),
    "empty": ("", "invalid_json"),
    "not JSON": ("{nope", "invalid_json"),
    "a lone surrogate": ('{"name": "\\ud800"}', None),  # valid JSON; refused by validation, never stored
}


@pytest.mark.parametrize("text, code", list(HOSTILE_JSON.values()), ids=list(HOSTILE_JSON))
def test_hostile_json_in_any_hook_is_400_and_stores_nothing(unit, text, code):
    for path, send in hook_posts(unit):
        answer = send(text)
        data = check(unit, answer)
        assert answer.status_code == 400, (path, data)
        if code:
            assert data["error"]["code"] == code, (path, data)
    assert unit.stored() == [] and unit.queued == []


def test_deep_nesting_inside_a_real_payload_is_refused(unit):
    sha = commit()
    generic = generic_hook(unit.tag, "shop", "master", sha)
    push = github_payload("push", owner=unit.tag, repo="shop", ref="master", sha=sha)
    travis = payload("travis-payload", owner=unit.tag, repo="shop", ref="master", sha=sha, status_message="Passed")
    for body, send in (
        (generic, lambda text: post_generic(unit, text)),
        (push, lambda text: post_github(unit, text, form=True)),
        (travis, lambda text: post_travis(unit, text)),
    ):
        text = json.dumps({**body, "extra": None}).replace("null", DEEP_ARRAYS)
        assert check(unit, send(text))["error"]["code"] == "too_deep"
    assert unit.stored() == [] and unit.queued == []


def test_invalid_utf8_is_400(unit):
    raw = b'{"name": "\xff\xfe"}'
    assert post_generic(unit, raw).status_code == 400
    assert post_github(unit, raw).status_code == 400
    assert post_github(unit, b"payload=%FF", content_type=FORM).get_json()["error"]["code"] == "invalid_form"
    assert unit.stored() == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x", "", "application/json\x00"]
)
def test_wrong_content_types_are_refused_without_a_5xx(unit, content_type):
    body = json.dumps(generic_hook(unit.tag, "shop", "master", commit())).encode()
    for answer in (
        post_github(unit, body, content_type=content_type),
        unit.client.post("/hooks/travis", data=body, headers={"Content-Type": content_type}),
    ):
        check(unit, answer)
        assert 400 <= answer.status_code < 500
    assert post_github(unit, body, content_type=content_type).status_code == 415
    # the generic hook is read as JSON whatever the label: a signed valid hook is taken
    assert check(unit, post_generic(unit, body, content_type=content_type)) is not None
    assert post_generic(unit, b"<xml/>", content_type=content_type).status_code == 400


def test_bodies_over_the_limit_are_413(unit):
    big = b" " * (MAX_BODY + 1)
    for path, headers in (
        ("/hooks/generic", {"Content-Type": JSON_TYPE, "X-Hook-Signature": sign(unit.secret, big)}),
        ("/hooks/github", {"Content-Type": JSON_TYPE, "X-GitHub-Event": "push"}),
        ("/hooks/github", {"Content-Type": FORM, "X-GitHub-Event": "push"}),
        ("/hooks/travis", {"Content-Type": FORM, "Signature": "AAAA"}),
    ):
        answer = unit.client.post(path, data=big, headers=headers)
        assert answer.status_code == 413 and check(unit, answer)["error"]["code"] == "request_entity_too_large"
    assert unit.stored() == []


def test_hostile_headers_on_the_github_hook(unit):
    raw = json.dumps(github_payload("push", owner=unit.tag, repo="shop", ref="master", sha=commit())).encode()
    for event in ("", "é", "push;drop", "x" * 1000):
        assert check(unit, post_github(unit, raw, event=event))["error"]["code"] == "missing_event"
    for signature in ("", "sha256=", "sha1=00", "md5=00", "sha256=" + "é" * 64, "=" * 5000):
        headers = {"Content-Type": JSON_TYPE, "X-GitHub-Event": "push", "X-Hub-Signature-256": signature}
        assert check(unit, unit.client.post("/hooks/github", data=raw, headers=headers))
    long_delivery = unit.delivery_id() + "d" * 10000  # kept as its first 100 characters
    headers = {"Content-Type": JSON_TYPE, "X-GitHub-Event": "push", "X-GitHub-Delivery": long_delivery}
    answer = unit.client.post(
        "/hooks/github", data=raw, headers={**headers, "X-Hub-Signature-256": sign(unit.secret, raw)}
    )
    assert check(unit, answer) and answer.status_code == 202


def test_a_form_encoded_travis_notification_with_a_repeated_or_missing_payload(unit):
    assert check(unit, unit.client.post("/hooks/travis", data={"other": "1"}))["error"]["code"]
    answer = unit.client.post("/hooks/travis", data=form_encode({}) + b"&payload=x", content_type=FORM)
    assert answer.status_code == 401 and check(unit, answer)
    assert unit.stored() == []


QUERIES = {
    "/jobs": [
        "state=",
        "state=DONE",
        "state=new",
        "state=%00",
        "owner=",
        "repo=",
        "ref=",
        "owner=-acme",
        "owner=%C3%A9",
        "repo=..",
        "ref=a..b",
        "ref=" + "a" * 201,
        "owner=" + "a" * 10000,
        "limit=",
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=1.5",
        "limit=%C2%B2",  # '²' is a digit to str.isdigit and not to int()
        "limit=%D9%A1%D9%A2",  # Arabic-Indic 12
        "limit=" + "9" * 5000,
        "offset=" + "9" * 5000,
        "offset=1000000001",
        "offset=-5",
        "limit=%FF",
    ],
    "/events": [
        "job=",
        "job=../x",
        "job=%C3%A9",
        "job=" + "a" * 65,
        "owner=",
        "owner=acme",  # an app needs all three
        "owner=acme&repo=shop",
        "owner=acme&repo=shop&ref=",
        "owner=acme&repo=shop&ref=..",
        "limit=",
        "limit=0",
        "limit=1001",
        "limit=" + "9" * 5000,
        "limit=%C2%B2",
    ],
}


@pytest.mark.parametrize("path, query", [(p, q) for p, qs in QUERIES.items() for q in qs])
def test_bad_filters_are_400_naming_the_parameter(unit, path, query):
    answer = unit.client.get(f"{path}?{query}")
    error = check(unit, answer)["error"]
    assert answer.status_code == 400, error
    names = [part.split("=", 1)[0] for part in query.split("&")]
    assert (
        error["details"]["parameter"] in names + ["ref", "repo"] and error["details"]["parameter"] in error["message"]
    )


@pytest.mark.parametrize(
    "query",
    ["", "state=NEW", "owner=acme&repo=shop&ref=feature/x", "limit=200&offset=1000000000", "limit=007"],
)
def test_good_job_filters_answer_a_page(unit, query):
    page = check(unit, unit.client.get(f"/jobs?{query}"))
    assert page["jobs"] == [] and page["total"] == 0


@pytest.mark.parametrize("query", ["", "job=" + "a" * 32, "owner=acme&repo=shop&ref=main", "limit=1000"])
def test_good_event_filters_answer_events(unit, query):
    data = check(unit, unit.client.get(f"/events?{query}"))
    assert data["count"] == len(data["events"])


@pytest.mark.parametrize(
    "segment", ["%C3%A9", "%E2%80%AE", "a" * 65, "a" * 100000, "%00", "%FF", "..", "%2E%2E", "0123abc-", "x%0Ay"]
)
def test_unknown_or_hostile_job_ids_are_404(unit, segment):
    answer = unit.client.get(f"/jobs/{segment}")
    assert answer.status_code == 404 and check(unit, answer)


@pytest.mark.parametrize(
    "path",
    [
        "/apps/%C3%A9/shop/main",
        "/apps/acme/%F0%9F%92%A5/main",
        "/apps/acme/shop/%E2%80%AE",
        "/apps/acme/shop/a..b",
        "/apps/acme/shop/-rf",
        "/apps/" + "a" * 10000 + "/shop/main",
        "/apps/acme/" + "r" * 101 + "/main",
        "/apps/acme/shop/" + "/".join(["b"] * 150),
        "/apps/acme/shop/%00",
    ],
)
def test_hostile_undeploy_paths_are_401_without_the_token_and_400_with_it(unit, path):
    assert check(unit, unit.client.delete(path))["error"]["code"] == "unauthorized"
    token = {"Authorization": f"Bearer {unit.runtime.settings.api_token}"}
    answer = unit.client.delete(path, headers=token)
    assert answer.status_code == 400 and check(unit, answer)
    assert unit.stored() == [] and unit.queued == []


def test_hostile_bearer_tokens_are_401(unit):
    for header in ("Bearer", "Bearer ", "Basic abc", "Bearer " + "é" * 100, "Bearer " + "x" * 10000):
        answer = unit.client.delete("/apps/acme/shop/main", headers={"Authorization": header})
        assert answer.status_code == 401 and check(unit, answer)


def test_the_read_routes_ignore_bodies_and_answer(unit):
    for path in ("/", "/jobs", "/events", "/openapi.json"):
        answer = unit.client.open(path, method="GET", data=DEEP_ARRAYS, content_type=JSON_TYPE)
        assert answer.status_code == 200 and check(unit, answer) is not None
    assert unit.client.get("/").get_json()["openapi"] == "/openapi.json"


def test_wrong_methods_are_405_in_the_envelope(unit):
    for method, path in (("GET", "/hooks/github"), ("PUT", "/jobs"), ("POST", "/jobs/abc"), ("GET", "/apps/a/b/c")):
        answer = unit.client.open(path, method=method)
        assert answer.status_code == 405 and set(answer.get_json()["error"]) == {"code", "message", "details"}
