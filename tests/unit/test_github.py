import json

import pytest

from totem.api.errors import ApiError
from totem.git_names import is_commit, is_owner, is_ref, is_repo, ref_slug
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


@pytest.mark.parametrize("ref", ["main", "feature/login", "release-1.2", "v1.0.0", "a/b/c", "x_y+z"])
def test_refs_git_allows(ref):
    assert is_ref(ref)


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "-rf",
        "/abs",
        "a/../b",
        "a//b",
        "a/",
        "x.lock",
        ".hidden",
        "a/.b",
        "semi;colon",
        "sp ace",
        "$(id)",
        "a\nb",
        "ü",
        "x" * 201,
    ],
)
def test_refs_git_refuses(ref):
    assert not is_ref(ref)


def test_other_names():
    assert is_owner("acme-corp") and not is_owner("-acme") and not is_owner("a/b") and not is_owner("")
    assert is_repo("hello.world") and not is_repo("..") and not is_repo("a b") and not is_repo("x/y")
    assert is_commit(SHA) and not is_commit("A" * 40) and not is_commit("abc")
    assert ref_slug("feature/Login_x") == "feature-login-x" and ref_slug("///") == "ref"


def headers(body: bytes, event="push", secret="s3cret"):
    return {"X-Hub-Signature-256": sign(secret, body), "X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}


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
