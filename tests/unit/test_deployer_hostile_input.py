"""Every deployer route against hostile input: deep nesting, NaN and Infinity, empty and wrong bodies,
wrong content types, huge numbers, unicode and overlong path segments. Each answer is a 4xx in the
error envelope (never a 5xx), and a refused request leaves the keys under the test's prefix as they were."""

from __future__ import annotations

import copy
import json

import pytest
from kombu.exceptions import OperationalError

from deployer import intake
from deployer.app import MAX_BODY
from tests.fixtures.deployer.harness import deploy_request
from tests.fixtures.deployer.service import AUTH, MINIMAL, deployer_app
from totem.net import free_port

JSON = "application/json"


@pytest.fixture
def service():
    with deployer_app() as app:
        yield app


def valid() -> dict:
    return deploy_request("shop", "v1", "img:1", "shop.localhost")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_raw(field: str, raw: str) -> str:
    """A valid request's JSON with `"x": <raw>` added to the object at `field` (dotted)."""
    body = valid()
    node = body
    for part in field.split(".") if field else []:
        node = node[part]
    node["x"] = "@RAW@"
    return json.dumps(body).replace('"@RAW@"', raw)


def refused(answer, status: int = 400) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.get_data()[:300])
    assert answer.content_type == JSON
    return answer.get_json()["error"]


# -- POST /apps: bodies ---------------------------------------------------------------------------
RAW_BODIES = {
    "an array 1,000 deep": nested(1000),
    "an array 100,000 deep": nested(100_000),
    "a 485-deep list in templates.app.args": with_raw("templates.app.args", nested(485)),
    "65 levels": with_raw("", nested(64)),
    "NaN at the top": with_raw("", "NaN"),
    "NaN in deployment": with_raw("deployment", "NaN"),
    "NaN in templates.app.args": with_raw("templates.app.args", "NaN"),
    "NaN as nodes": json.dumps(valid()).replace('"nodes": 2', '"nodes": NaN'),
    "Infinity in environment": with_raw("environment", "Infinity"),
    "-Infinity in proxy": with_raw("proxy", "-Infinity"),
    "1e400 in meta-info": with_raw("meta-info", "1e400"),
    "an integer of 5,000 digits": json.dumps(valid()).replace('"nodes": 2', '"nodes": 1' + "0" * 5000),
    "an empty body": "",
    "blanks": "   \n",
    "null": "null",
    "an array": "[]",
    "a string": '"deploy"',
    "a number": "12",
    "an empty object": "{}",
    "truncated": json.dumps(valid())[:-10],
    "two documents": json.dumps(MINIMAL) * 2,
    "a byte order mark": "\ufeff" + json.dumps(MINIMAL),
    "single quotes": "{'deployment': {}}",
    "a trailing comma": '{"deployment": {"name": "a", "version": "1"},}',
    "comments": '{"deployment": {} /* no */}',
}


@pytest.mark.parametrize("raw", RAW_BODIES.values(), ids=RAW_BODIES.keys())
def test_hostile_bodies_are_a_400_and_write_nothing(service, raw):
    before = service.keys()
    error = refused(service.test_client().post("/apps", data=raw, content_type=JSON, headers=AUTH))
    assert error["code"] in {"invalid_json", "too_deep", "validation_failed"}
    assert len(error["message"]) < 400 and "\n" not in error["message"]
    assert service.keys() == before == 0 and service.dispatched == []


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe{}", b'{"deployment": "\xc3"}', json.dumps(MINIMAL).encode("utf-16")],
    ids=["latin-1", "cut utf-8", "utf-16"],
)
def test_bodies_that_are_not_utf8_are_a_400(service, raw):
    assert refused(service.test_client().post("/apps", data=raw, content_type=JSON, headers=AUTH))["code"] == (
        "invalid_json"
    )
    assert service.keys() == 0


NUMBERS = {
    "nodes": lambda r, n: r["deployment"].update(nodes=n),
    "check.port": lambda r, n: r["deployment"]["check"].update(port=n),
    "check.attempts": lambda r, n: r["deployment"]["check"].update(attempts=n),
    "ab-weight": lambda r, n: r["deployment"].update({"ab-weight": n}),
    "drain": lambda r, n: r["deployment"].update(drain=n),
    "location port": lambda r, n: r["proxy"]["hosts"]["public"]["locations"]["_home"].update(port=n),
}


@pytest.mark.parametrize("number", [10**100, -(10**100), 1e300, -1, 0.5, True], ids=str)
@pytest.mark.parametrize("field", NUMBERS)
def test_huge_or_odd_numbers_are_refused_by_the_schema(service, field, number):
    body = valid()
    NUMBERS[field](body, number)
    answer = service.test_client().post("/apps", json=body, headers=AUTH)
    if answer.status_code == 202:  # a few are fine where they are (a drain of 0.5 s)
        assert (field, number) in {("drain", 0.5)}
        return
    assert refused(answer)["code"] == "validation_failed"
    assert service.keys() == 0


STRINGS = {
    "a 10,000-character name": lambda r: r["deployment"].update(name="a" * 10_000),
    "a newline after the name": lambda r: r["deployment"].update(name="shop\n"),
    "a unicode name": lambda r: r["deployment"].update(name="shöp"),
    "a NUL in the version": lambda r: r["deployment"].update(version="v1\x00"),
    "a duration of 5,000 digits": lambda r: r["deployment"]["check"].update(timeout="9" * 5000),
    "a duration of years": lambda r: r["deployment"]["stop"].update(timeout="999999h"),
    "a drain of years": lambda r: r["deployment"].update(drain="999999999m"),
    "a health interval of years": lambda r: r["proxy"]["upstreams"]["8080"]["health"].update(interval="999999m"),
    "a health timeout of 5,000 digits": lambda r: r["proxy"]["upstreams"]["8080"]["health"].update(timeout="9" * 5000),
    "a hostname with a newline": lambda r: r["proxy"]["hosts"]["public"].update(hostname="a.localhost\nb"),
    "a check path for HAProxy": lambda r: r["deployment"]["check"].update(path="/x\r\nhttp-request deny"),
    "an empty image": lambda r: r["templates"]["app"]["args"].update(image=""),
    "a variable name with =": lambda r: r["environment"].update({"A=B": "x"}),
    "an object as a variable": lambda r: r["environment"].update(A={"nested": True}),
    "an unknown channel": lambda r: r["notifications"].update(pager={}),
    "a schedule with a newline": lambda r: r.update(schedule="daily\n[Service]"),
    "proxy as a list": lambda r: r.update(proxy=[]),
    "deployment as a string": lambda r: r.update(deployment="shop"),
    "two ports": lambda r: r["proxy"]["hosts"]["public"]["locations"].update(api={"port": 9090, "path": "/api"}),
    "10,000 bad variables": lambda r: r["environment"].update({f"-{i}": "x" for i in range(10_000)}),
}


@pytest.mark.parametrize("change", STRINGS.values(), ids=STRINGS.keys())
def test_hostile_values_are_named_and_write_nothing(service, change):
    body = valid()
    change(body)
    error = refused(service.test_client().post("/apps", json=body, headers=AUTH))
    assert error["code"] == "validation_failed" and error["message"].startswith("body")
    assert len(error["message"]) < 400 and len(error["details"]["errors"]) <= 20
    assert service.keys() == 0


def test_whole_floats_are_integers_in_the_plan(service):
    body = valid()
    body["deployment"].update({"nodes": 2.0, "ab-weight": 10.0, "check": {"min-nodes": 1e300, "attempts": 3.0}})
    body["proxy"]["hosts"]["public"]["locations"]["_home"]["port"] = 8080.0
    client = service.test_client()
    answer = client.post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 202
    spec = client.get(answer.headers["Location"]).get_json()["spec"]
    assert (spec["nodes"], spec["min_nodes"], spec["attempts"], spec["ab_weight"], spec["port"]) == (2, 2, 3, 10, 8080)
    assert all(type(spec[k]) is int for k in ("nodes", "min_nodes", "attempts", "ab_weight", "port"))


def test_lone_surrogates_and_unicode_values_are_stored_and_shown(service):
    body = valid()
    body["environment"].update(SNOW="☃", LONE="\ud800")
    body["templates"]["app"]["args"]["label"] = "𝄞"
    client = service.test_client()
    answer = client.post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 202
    shown = client.get(answer.headers["Location"]).get_json()
    assert shown["request"]["environment"]["SNOW"] == "☃" and shown["request"]["environment"]["LONE"] == "\ud800"


def test_nesting_within_the_limit_is_accepted_and_copied(service):
    body = valid()
    body["templates"]["app"]["args"]["deep"] = json.loads(nested(58))  # 64 levels in all
    answer = service.test_client().post("/apps", json=body, headers=AUTH)
    assert answer.status_code == 202
    assert service.test_client().get(answer.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    "content_type,data",
    [
        (None, json.dumps(MINIMAL)),
        ("text/plain", json.dumps(MINIMAL)),
        ("application/x-www-form-urlencoded", "deployment=x"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("application/xml", "<deployment/>"),
        ("application/jsonx", json.dumps(MINIMAL)),
    ],
)
def test_bodies_that_are_not_json_are_a_415(service, content_type, data):
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    assert refused(service.test_client().post("/apps", data=data, headers=headers), 415)["code"] == (
        "unsupported_media_type"
    )
    assert service.keys() == 0


def test_bodies_over_the_limit_are_a_413(service):
    raw = with_raw("templates.app.args", json.dumps("x" * MAX_BODY))
    for path in ("/apps", "/apps/shop/rollback"):
        refused(service.test_client().post(path, data=raw, content_type=JSON, headers=AUTH), 413)
    assert service.keys() == 0


def test_a_record_too_large_for_etcd_is_a_413(service, monkeypatch):
    monkeypatch.setattr(intake, "MAX_RECORD", 2000)
    body = valid()
    body["environment"]["BIG"] = "x" * 2000
    assert refused(service.test_client().post("/apps", json=body, headers=AUTH), 413)["code"] == "too_large"
    assert service.keys() == 0


def test_an_unauthorised_hostile_body_is_a_401_first(service):
    answer = service.test_client().post("/apps", data=nested(1000), content_type=JSON)
    assert refused(answer, 401)["code"] == "unauthorized" and service.keys() == 0


# -- idempotency and sequence numbers -------------------------------------------------------------
def test_a_replay_takes_no_sequence_number(service):
    client = service.test_client()
    headers = {**AUTH, "Idempotency-Key": "job-1-default"}
    first = client.post("/apps", json=valid(), headers=headers)
    keys = service.keys()
    again = client.post("/apps", json=valid(), headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert service.keys() == keys
    refused(client.post("/apps", data=with_raw("", "NaN"), content_type=JSON, headers=headers))
    assert service.keys() == keys
    second = client.post("/apps", json=valid(), headers={**AUTH, "Idempotency-Key": "job-2-default"})
    assert second.get_json()["deployment"]["id"] == "shop-v1-2"  # nothing refused took a number


@pytest.mark.parametrize("key", ["k" * 10_000, " padded ", "é-ü", "a\tb"])
def test_odd_idempotency_keys_work(service, key):
    client = service.test_client()
    first = client.post("/apps", json=valid(), headers={**AUTH, "Idempotency-Key": key})
    again = client.post("/apps", json=valid(), headers={**AUTH, "Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (202, 200)


# -- rollback ---------------------------------------------------------------------------------------
@pytest.fixture
def deployed(service):
    client = service.test_client()
    deployment_id = client.post("/apps", json=valid(), headers=AUTH).get_json()["deployment"]["id"]
    records = service.extensions["deployer"].ctx.records

    def promote(r):
        r["state"] = "PROMOTED"
        r["events"].append({**r["events"][0], "type": "DEPLOYMENT_PROMOTED"})
        return r, None

    records.update(deployment_id, promote)
    records.set_live("shop", deployment_id)
    return deployment_id


@pytest.mark.parametrize(
    "raw,status",
    [
        (nested(1000), 400),
        ('{"version": NaN}', 400),
        ('{"version": Infinity}', 400),
        ("[1]", 400),
        ('"v1"', 400),
        ("null", 400),
        ('{"version": 1}', 400),
        ('{"version": "v1\\n"}', 400),
        ('{"version": "' + "v" * 5000 + '"}', 400),
        ('{"version": "nope"}', 409),
        ("{}", 409),
        ("{", 400),
    ],
)
def test_hostile_rollbacks_write_nothing(service, deployed, raw, status):
    before = service.keys()
    answer = service.test_client().post("/apps/shop/rollback", data=raw, content_type=JSON, headers=AUTH)
    refused(answer, status)
    assert service.keys() == before and service.dispatched == [("deployer.run_app", "shop")]


def test_rollback_with_a_body_that_is_not_json_is_a_415(service, deployed):
    answer = service.test_client().post("/apps/shop/rollback", data="v1", content_type="text/plain", headers=AUTH)
    refused(answer, 415)


def test_a_stored_request_that_no_longer_passes_is_a_409(service, deployed):
    records = service.extensions["deployer"].ctx.records

    def older_rules(r):  # as if accepted before the rules were tightened
        r["request"]["deployment"]["check"]["path"] = "/x\ny"
        return r, None

    records.update(deployed, older_rules)
    records.set_live("shop", None)
    before = service.keys()
    error = refused(service.test_client().post("/apps/shop/rollback", headers=AUTH), 409)
    assert error["code"] == "rollback_target_invalid" and "body.deployment.check.path" in error["message"]
    assert service.keys() == before


# -- path segments ------------------------------------------------------------------------------
SEGMENTS = {
    "5,000 characters": "a" * 5000,
    "unicode": "shöp-☃",
    "a NUL": "shop%00",
    "a newline": "shop%0A",
    "a bad escape": "%FF%FE",
    "dots": "..",
    "an encoded slash": "a%2Fb",
    "upper case": "SHOP",
}
GETS = [
    "/apps/{}",
    "/apps/{}/versions",
    "/apps/{}/versions/{}",
    "/apps/shop/versions/{}",
    "/deployments/{}",
    "/deployments/shop-v1-{}",
    "/schemas/{}",
]


@pytest.mark.parametrize("segment", SEGMENTS.values(), ids=SEGMENTS.keys())
@pytest.mark.parametrize("route", GETS)
def test_hostile_path_segments_are_a_404(service, deployed, route, segment):
    answer = service.test_client().get(route.replace("{}", segment))
    error = refused(answer, 404)
    assert len(error["message"]) < 200


@pytest.mark.parametrize("segment", SEGMENTS.values(), ids=SEGMENTS.keys())
def test_hostile_path_segments_in_writes_are_a_404_and_write_nothing(service, deployed, segment):
    client = service.test_client()
    before = service.keys()
    for method, route in [
        ("delete", "/apps/{}"),
        ("delete", "/apps/{}/versions/v1"),
        ("delete", "/apps/shop/versions/{}"),
        ("post", "/apps/{}/rollback"),
    ]:
        refused(getattr(client, method)(route.replace("{}", segment), headers=AUTH), 404)
    assert service.keys() == before and service.dispatched == [("deployer.run_app", "shop")]


def test_long_names_within_the_patterns_work(service):
    name, version = "a" * 128, "v" * 128
    client = service.test_client()
    answer = client.post("/apps", json=deploy_request(name, version, "img:1", "long.localhost"), headers=AUTH)
    assert answer.status_code == 202
    assert client.get(answer.headers["Location"]).status_code == 200  # an id longer than any name
    assert client.get(f"/apps/{name}/versions/{version}").status_code == 200


@pytest.mark.parametrize("path", ["/apps", "/apps/shop", "/deployments/x", "/schemas", "/openapi.json"])
def test_wrong_methods_are_a_405_in_the_envelope(service, path):
    refused(service.test_client().put(path, json={}, headers=AUTH), 405)


@pytest.mark.parametrize("path", ["/", "/apps/a/b/c/d", "/deployments", "/apps/shop/rollback/x", "/%FF"])
def test_unknown_paths_are_a_404_in_the_envelope(service, path):
    refused(service.test_client().get(path), 404)


def test_query_strings_are_ignored(service):
    client = service.test_client()
    assert client.get("/apps?limit=" + "9" * 5000 + "&x=%00").status_code == 200
    assert client.get("/schemas?" + "a" * 5000).status_code == 200
    assert client.get("/openapi.json?x=NaN").status_code == 200


# -- dependencies down: a 503, never a 500 ----------------------------------------------------------
def test_etcd_down_is_a_503():
    with deployer_app(TOTEM_ETCD_URL=f"etcd://127.0.0.1:{free_port()}") as app:
        client = app.test_client()
        for answer in (client.get("/apps"), client.post("/apps", json=MINIMAL, headers=AUTH)):
            error = refused(answer, 503)
            assert error["code"] == "unavailable" and answer.headers["Retry-After"] == "5"
        refused(client.post("/apps", json={"x": 1}, headers=AUTH), 400)  # checked before etcd is asked


def test_a_queue_down_is_a_503_for_undeploy_and_a_202_for_deployments():
    def down(*task):
        raise OperationalError("redis is down")

    with deployer_app(dispatch=down) as app:
        client = app.test_client()
        answer = client.post("/apps", json=copy.deepcopy(MINIMAL), headers=AUTH)
        assert answer.status_code == 202  # stored: the sweep queues it once Redis is back
        refused(client.delete("/apps/mini", headers=AUTH), 503)


def test_a_token_nobody_issued_is_refused_when_none_is_configured():
    with deployer_app(TOTEM_API_TOKEN="") as app:
        error = refused(app.test_client().post("/apps", json=MINIMAL, headers=AUTH), 401)
        assert error["code"] == "unauthorized" and app.keys() == 0
