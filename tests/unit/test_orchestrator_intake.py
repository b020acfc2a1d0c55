"""GitHub events and Travis notifications → hooks (signatures checked, payloads parsed)."""

from __future__ import annotations

import json

import pytest

from orchestrator.hooks import generic, github, travis
from tests.unit.test_orchestrator_payloads import TravisKey, generic_hook, github_payload, payload
from totem.api import ApiError
from totem.github import GithubDelivery

SHA = "f" * 40


def delivery(event: str, name: str, **values) -> GithubDelivery:
    values = {"owner": "acme", "repo": "shop", "ref": "master", "sha": SHA, **values}
    return GithubDelivery(event, "d-1", payload(name, **values))


def test_push_is_an_scm_push_hook():
    action = github.translate(delivery("push", "github-push"))
    assert action.kind == "hooks"
    assert action.hooks[0].git == {"owner": "acme", "repo": "shop", "ref": "master", "commit": SHA}
    assert (action.hooks[0].type, action.hooks[0].status) == ("scm-push", "success")


def test_branch_create_unfreezes_and_delete_undeploys():
    assert github.translate(delivery("create", "github-create", ref="feature/x")).kind == "unfreeze"
    action = github.translate(delivery("delete", "github-delete", ref="feature/x"))
    assert action.kind == "undeploy" and action.ref.ref == "feature/x"


@pytest.mark.parametrize(
    "conclusion, status",
    [("success", "success"), ("failure", "failed"), ("cancelled", "failed"), ("skipped", "success")],
)
def test_workflow_run_is_a_ci_hook_named_after_the_workflow(conclusion, status):
    action = github.translate(delivery("workflow_run", "github-workflow_run", workflow="CI", conclusion=conclusion))
    assert action.hooks[0].key == "ci:CI" and action.hooks[0].status == status


def real_run(**values) -> dict:
    """The workflow_run delivery GitHub sends, whose `workflow_run.name` is empty."""
    return github_payload(
        "workflow_run-completed",
        **{"owner": "acme", "repo": "shop", "ref": "master", "sha": SHA, "workflow": "CI", "conclusion": "success"},
        **values,
    )


def test_a_run_with_an_empty_name_is_named_after_its_workflow():
    body = real_run()
    assert body["workflow_run"]["name"] == ""
    action = github.translate(GithubDelivery("workflow_run", "d", body))
    assert action.kind == "hooks" and action.hooks[0].key == "ci:CI" and action.hooks[0].status == "success"
    assert action.hooks[0].git == {"owner": "acme", "repo": "shop", "ref": "master", "commit": SHA}


@pytest.mark.parametrize(
    "change, name",
    [
        (lambda b: b["workflow_run"].update(name="Build and test"), "Build and test"),  # its own name wins
        (lambda b: b["workflow_run"].update(name="   "), "CI"),  # blanks are no name
        (lambda b: b.pop("workflow"), "ci.yml"),  # then the workflow file's name
        (lambda b: b["workflow"].update(name=""), "ci.yml"),
        (lambda b: b["workflow"].update(name=None), "ci.yml"),
        (
            lambda b: (b.update(workflow=[]), b["workflow_run"].update(path=".github/workflows/deploy.yaml@main")),
            "deploy.yaml",
        ),
        (lambda b: (b["workflow"].update(name=""), b["workflow_run"].pop("path")), "ci.yml"),  # workflow.path
    ],
)
def test_the_name_of_a_run_falls_back_to_the_workflow_then_its_file(change, name):
    body = real_run()
    change(body)
    assert github.translate(GithubDelivery("workflow_run", "d", body)).hooks[0].name == name


@pytest.mark.parametrize(
    "change",
    [
        lambda b: (b.pop("workflow"), b["workflow_run"].pop("path")),
        lambda b: (b["workflow"].update(name="", path=None), b["workflow_run"].update(path="", name=None)),
        lambda b: b["workflow_run"].update(name="x" * 101),
    ],
)
def test_a_run_without_any_usable_name_is_400_naming_the_field(change):
    body = real_run()
    change(body)
    with pytest.raises(ApiError) as caught:
        github.translate(GithubDelivery("workflow_run", "d", body))
    assert caught.value.status == 400 and "workflow_run.name" in caught.value.message
    assert caught.value.details["field"].startswith("payload.workflow_run.name")


def test_ping_and_unknown_events():
    assert github.translate(delivery("ping", "github-ping")).kind == "ping"
    assert github.translate(GithubDelivery("issues", "d", {})).kind == "ignored"


def test_our_own_status_is_not_taken_for_ci():
    body = {
        "sha": SHA,
        "state": "success",
        "context": "prod::Orchestrator",
        "branches": [],
        "repository": {"name": "shop", "owner": {"login": "acme"}},
    }
    assert github.translate(GithubDelivery("status", "d", body)).kind == "ignored"
    body = {**body, "context": "ci/jenkins", "branches": [{"name": "master", "commit": {"sha": SHA}}]}
    assert github.translate(GithubDelivery("status", "d", body)).hooks[0].key == "ci:ci/jenkins"


def test_malformed_github_payloads_are_400():
    for event, body in (
        ("push", {"ref": "refs/heads/x"}),
        ("workflow_run", {"repository": {}}),
        ("push", {**payload("github-push", owner="acme", repo="shop", ref="..", sha=SHA)}),
    ):
        with pytest.raises(ApiError) as caught:
            github.translate(GithubDelivery(event, "d", body))
        assert caught.value.status == 400


def test_travis_signature_is_verified_with_the_public_key():
    key, other = TravisKey(), TravisKey()
    text = json.dumps(
        payload("travis-payload", owner="acme", repo="shop", ref="master", sha=SHA, status_message="Passed")
    )
    hook = travis.read(text, key.sign(text), key.public_pem)
    assert hook.key == "ci:travis" and hook.status == "success" and hook.commit == SHA
    for signature in (other.sign(text), "not base64!", None, key.sign(text + " ")):
        with pytest.raises(ApiError) as caught:
            travis.read(text, signature, key.public_pem)
        assert caught.value.status == 401


@pytest.mark.parametrize(
    "message, status",
    [
        ("Broken", "failed"),
        ("Still Failing", "failed"),
        ("Fixed", "success"),
        ("Pending", "pending"),
        ("Errored", "failed"),
    ],
)
def test_travis_status_messages(message, status):
    key = TravisKey()
    text = json.dumps(payload("travis-payload", owner="o", repo="r", ref="master", sha=SHA, status_message=message))
    assert travis.read(text, key.sign(text), key.public_pem).status == status


def test_travis_without_a_configured_key_is_503_and_bad_json_400():
    with pytest.raises(ApiError) as caught:
        travis.read("{}", "x", None)
    assert caught.value.status == 503
    key = TravisKey()
    with pytest.raises(ApiError) as caught:
        travis.read("{nope", key.sign("{nope"), key.public_pem)
    assert caught.value.status == 400


def test_generic_hook_signature_and_validation():
    body = json.dumps(generic_hook("acme", "shop", "master", SHA)).encode()
    from totem import signatures

    assert (
        generic.read({"X-Hook-Signature": signatures.sign("s", body)}, body, "s", False).key == "builder:image-factory"
    )
    with pytest.raises(ApiError) as caught:
        generic.read({"X-Hook-Signature": signatures.sign("other", body)}, body, "s", False)
    assert caught.value.status == 401
    bad = json.dumps(generic_hook("acme", "shop", "master", "nothex")).encode()
    with pytest.raises(ApiError) as caught:
        generic.read({"X-Hook-Signature": signatures.sign("s", bad)}, bad, "s", False)
    assert caught.value.status == 400
