import json
import urllib.parse

import pytest

from totem.api.errors import ApiError
from totem.github import create_or_delete_ref, push_ref, read_delivery
from totem.signatures import sign

SHA = "a" * 40
PUSH = {
    "ref": "refs/heads/feature/login",
    "before": "0" * 40,
    "after": SHA,
    "created": True,
    "deleted": False,
    "repository": {"name": "hello", "full_name": "acme/hello", "owner": {"login": "acme", "name": "acme"}},
}


def headers(body: bytes, event="push", secret="s3cret", content_type="application/json"):
    return {
        "Content-Type": content_type,
        "X-Hub-Signature-256": sign(secret, body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "d-1",
    }


def test_delivery_is_verified_and_parsed():
    body = json.dumps(PUSH).encode()
    delivery = read_delivery(headers(body), body, "s3cret")
    assert (delivery.event, delivery.delivery) == ("push", "d-1")
    ref = push_ref(delivery.payload)
    assert (ref.owner, ref.repo, ref.ref, ref.ref_type, ref.commit, ref.created) == (
        "acme",
        "hello",
        "feature/login",
        "branch",
        SHA,
        True,
    )


def test_bad_signature_is_401_and_bad_body_400():
    body = json.dumps(PUSH).encode()
    with pytest.raises(ApiError) as error:
        read_delivery(headers(body, secret="other"), body, "s3cret")
    assert error.value.status == 401
    with pytest.raises(ApiError) as error:
        read_delivery(headers(b"{nope"), b"{nope", "s3cret")
    assert error.value.status == 400
    with pytest.raises(ApiError) as error:  # no secret configured: refuse rather than trust
        read_delivery(headers(body), body, None)
    assert error.value.status == 401


FORM = "application/x-www-form-urlencoded"


def form(payload: dict | str, **more: str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urllib.parse.urlencode({"payload": text, **more}).encode()


def refusal(body: bytes, content_type: str, **header_values) -> ApiError:
    with pytest.raises(ApiError) as error:
        read_delivery({**headers(body, content_type=content_type), **header_values}, body, "s3cret")
    return error.value


def test_form_encoded_delivery_is_read_from_its_payload_field():
    body = form({**PUSH, "head_commit": {"message": "a & b + c = “d” 100%"}})
    delivery = read_delivery(headers(body, content_type=FORM), body, "s3cret")
    assert push_ref(delivery.payload).commit == SHA
    assert delivery.payload["head_commit"]["message"] == "a & b + c = “d” 100%"
    # the content type's parameters and case do not matter; the signature is over the raw form body
    for content_type in (f"{FORM}; charset=utf-8", "Application/X-WWW-Form-Urlencoded"):
        assert read_delivery(headers(body, content_type=content_type), body, "s3cret").payload["after"] == SHA
    signed_json = headers(json.dumps(PUSH).encode(), content_type=FORM)
    with pytest.raises(ApiError) as error:  # signed over the JSON, sent as a form: not the body as sent
        read_delivery(signed_json, body, "s3cret")
    assert error.value.status == 401


def test_json_with_a_charset_and_lower_case_header_names():
    body = json.dumps(PUSH).encode()
    lower = {k.lower(): v for k, v in headers(body, content_type="application/json; charset=utf-8").items()}
    assert read_delivery(lower, body, "s3cret").event == "push"


@pytest.mark.parametrize(
    "body, content_type, status, code",
    [
        (b"after=x", FORM, 400, "invalid_payload"),  # no payload field
        (b"", FORM, 400, "invalid_payload"),
        (form(PUSH) + b"&" + form(PUSH), FORM, 400, "invalid_payload"),  # payload twice
        (form("{nope"), FORM, 400, "invalid_json"),
        (form("[1]"), FORM, 400, "invalid_payload"),
        (form('{"a": NaN}'), FORM, 400, "invalid_json"),
        (form("[" * 1000 + "]" * 1000), FORM, 400, "too_deep"),
        (b"payload=%FF%FE", FORM, 400, "invalid_form"),
        (b"payload=\xff", FORM, 400, "invalid_form"),
        (b"&".join([b"x=1"] * 500), FORM, 400, "invalid_form"),
        (json.dumps(PUSH).encode(), "text/plain", 415, "unsupported_media_type"),
        (json.dumps(PUSH).encode(), "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
        (json.dumps(PUSH).encode(), "", 415, "unsupported_media_type"),
        (form(PUSH), "application/json", 400, "invalid_json"),  # a form sent as JSON
    ],
)
def test_malformed_deliveries_are_refused_naming_what(body, content_type, status, code):
    error = refusal(body, content_type)
    assert (error.status, error.code) == (status, code), error.message
    if code == "invalid_payload" and b"payload" not in body:
        assert "payload" in error.message and error.details == {"field": "payload"}
    if status == 415:
        assert error.details == {"accepted": ["application/json", FORM]}


def test_the_signature_is_checked_before_the_content_type():
    body = b"payload=%7B%7D"
    assert refusal(body, "text/plain", **{"X-Hub-Signature-256": sign("other", body)}).status == 401


@pytest.mark.parametrize("event", ["", "push event", "é", "x" * 65, "push\n"])
def test_malformed_event_names_are_400(event):
    body = json.dumps(PUSH).encode()
    assert refusal(body, "application/json", **{"X-GitHub-Event": event}).code == "missing_event"


def test_push_of_a_deleted_branch_and_malicious_names():
    deleted = push_ref({**PUSH, "after": "0" * 40, "deleted": True})
    assert deleted.deleted and deleted.commit is None
    for bad in (
        {**PUSH, "ref": "refs/heads/$(reboot)"},
        {**PUSH, "after": "; rm -rf /"},
        {**PUSH, "repository": {"name": "../etc", "owner": {"login": "acme"}}},
        {**PUSH, "ref": "refs/pull/1"},
    ):
        with pytest.raises(ApiError) as error:
            push_ref(bad)
        assert error.value.status == 400


def test_create_and_delete_events():
    payload = {"ref": "feature/x", "ref_type": "branch", "repository": PUSH["repository"]}
    assert create_or_delete_ref(payload, deleted=True).deleted
    assert create_or_delete_ref(payload, deleted=False).created
    with pytest.raises(ApiError):
        create_or_delete_ref({**payload, "ref_type": "repository"}, deleted=False)
