"""Approval gates without services: the policy a totem.yml sets, who may decide, the signed links, the
schema's messages, and the Slack buttons (docs/approvals.md)."""

from __future__ import annotations

import time

import pytest

from orchestrator import approval_links
from orchestrator.config import schema
from orchestrator.config.errors import ConfigError
from orchestrator.jobs import approval
from orchestrator.states import OPEN, State
from totem.access.principal import Principal
from totem.notify import Level, Notice, slack

SECRET = "unit-hook-secret"


def held(approvers=("admin",), self_approval=False, actor: str | None = "alice", timeout_s=3600.0) -> dict:
    job = {"id": "j1", "commit": "c1", "state": State.SCHEDULED, "trigger": {"actor": actor} if actor else None}
    chosen = {"approvers": list(approvers), "timeout": "1h", "timeout-s": timeout_s}
    approval.request(job, {**chosen, "self-approval": self_approval, "env": "prod"}, now=1000.0)
    return job


def test_no_approval_block_or_required_false_means_no_gate():
    assert approval.policy({}, "prod") is None
    assert approval.policy({"approval": {"approvers": ["deployer"]}}, "prod") is None
    assert approval.policy(None, "prod") is None


def test_the_defaults_are_admins_within_a_day_and_no_self_approval():
    chosen = approval.policy({"approval": {"required": True}}, "prod")
    assert chosen == {
        "approvers": ["admin"],
        "timeout": "24h",
        "timeout-s": 86400.0,
        "self-approval": False,
        "env": "prod",
    }


def test_an_environment_entry_overrides_the_top_level_fields_in_that_environment_only():
    config = {
        "approval": {
            "approvers": ["deployer"],
            "timeout": "2h",
            "environments": {"production": {"required": True, "timeout": "30m"}, "staging": {"approvers": ["x"]}},
        }
    }
    production = approval.policy(config, "production")
    assert production is not None
    assert (production["approvers"], production["timeout-s"]) == (["deployer"], 1800.0)
    assert approval.policy(config, "staging") is None and approval.policy(config, "local") is None
    off = {"approval": {"required": True, "environments": {"dev": {"required": False}}}}
    assert approval.policy(off, "dev") is None and approval.policy(off, "prod") is not None


@pytest.mark.parametrize(
    ("role", "name", "approvers", "admitted"),
    [
        ("admin", "root", ["deployer"], True),  # a role name admits that role or higher
        ("deployer", "dev", ["deployer"], True),
        ("viewer", "ann", ["deployer"], False),
        ("viewer", "release-bot", ["release-bot"], True),  # any other entry is a token name, whatever its role
        ("admin", "release-botx", ["release-bot"], False),  # exact names: no prefix match
        ("deployer", "dev", ["admin", "ops"], False),
    ],
)
def test_approvers_are_roles_or_higher_or_exact_token_names(role, name, approvers, admitted):
    assert approval.matches(Principal(name, role), approvers) is admitted


def test_who_may_decide():
    job = held(approvers=("deployer",))
    approval.check_decider(Principal("bob", "deployer"), job)
    with pytest.raises(approval.Refused) as refused:
        approval.check_decider(Principal("carol", "viewer"), job)
    assert (refused.value.status, refused.value.code) == (403, "not_an_approver")
    with pytest.raises(approval.Refused) as own:
        approval.check_decider(Principal("Alice", "admin"), job)  # GitHub logins ignore case
    assert (own.value.status, own.value.code) == (403, "self_approval")
    approval.check_decider(Principal("alice", "admin"), held(approvers=("deployer",), self_approval=True))
    approval.check_decider(Principal("alice", "admin"), held(actor=None))  # no trigger known: no self to refuse


def test_a_job_not_awaiting_a_decision_is_a_conflict():
    job = held()
    job["approval"]["state"] = approval.APPROVED
    with pytest.raises(approval.Refused) as refused:
        approval.check_decider(Principal("root", "admin"), job)
    assert (refused.value.status, refused.value.code) == (409, "not_awaiting_approval")
    moved = held()
    moved.update(state=State.NEW, commit="c2")  # a newer commit replaced the held one
    assert approval.current(moved) is None
    with pytest.raises(approval.Refused):
        approval.check_decider(Principal("root", "admin"), moved)


def test_the_held_record_and_when_the_gate_may_deploy():
    job = held(timeout_s=60)
    assert job["state"] == State.AWAITING_APPROVAL and job["state"] in OPEN
    assert job["approval"] == {
        "state": "waiting",
        "commit": "c1",
        "policy": job["approval"]["policy"],
        "requested": 1000.0,
        "deadline": 1060.0,
        "decision": None,
    }
    assert approval.approved(job) is False
    job["approval"]["state"] = approval.APPROVED
    assert approval.approved(job) is True
    job["commit"] = "c2"
    assert approval.approved(job) is False  # an approval is of one commit
    assert approval.approved({"state": State.SCHEDULED}) is True  # never held: nothing to wait for


def test_a_signed_link_verifies_only_as_issued():
    expires = int(time.time()) + 60
    url = approval_links.link("http://o.localhost:9400/", SECRET, "job1", "c1", "approve", expires)
    assert url.startswith(f"http://o.localhost:9400/approvals/job1/approve?commit=c1&expires={expires}&signature=")
    good = approval_links.signature(SECRET, "job1", "c1", "approve", expires)
    assert url.endswith(f"&signature={good}")
    approval_links.verify(SECRET, "job1", "approve", "c1", str(expires), good)
    bad = [
        (SECRET, "job2", "approve", "c1", str(expires), good),  # another job
        (SECRET, "job1", "approve", "c2", str(expires), good),  # another commit of the job
        (SECRET, "job1", "reject", "c1", str(expires), good),  # another decision
        (SECRET, "job1", "approve", "c1", str(expires + 1), good),  # a later expiry
        ("other-secret", "job1", "approve", "c1", str(expires), good),
        (SECRET, "job1", "approve", "c1", str(expires), good[:-1] + ("0" if good[-1] != "0" else "1")),
        (SECRET, "job1", "approve", "c1", None, good),
        (SECRET, "job1", "approve", None, str(expires), good),
        (SECRET, "job1", "approve", "c1", "-5", good),
        (SECRET, "job1", "approve", "c1", str(expires), "ü"),
        (None, "job1", "approve", "c1", str(expires), good),  # no secret: no links at all
        (SECRET, "job1", "deploy", "c1", str(expires), good),
    ]
    for args in bad:
        with pytest.raises(approval_links.LinkInvalid):
            approval_links.verify(*args)


def test_an_expired_link_is_refused_even_with_its_signature():
    expires = int(time.time()) - 1
    signed = approval_links.signature(SECRET, "job1", "c1", "approve", expires)
    with pytest.raises(approval_links.LinkInvalid, match="expired"):
        approval_links.verify(SECRET, "job1", "approve", "c1", str(expires), signed)


def test_the_link_key_is_derived_not_the_hook_secret_itself():
    import hashlib
    import hmac

    raw = hmac.new(SECRET.encode(), b"job1\nc1\napprove\n5", hashlib.sha256).hexdigest()
    assert approval_links.signature(SECRET, "job1", "c1", "approve", 5) != raw


@pytest.mark.parametrize(
    ("block", "path"),
    [
        ({"required": "maybe"}, "approval.required"),
        ({"approvers": ["Release Team"]}, "approval.approvers.0"),
        ({"approvers": []}, "approval.approvers"),
        ({"timeout": "soon"}, "approval.timeout"),
        ({"self-approval": 3}, "approval.self-approval"),
        ({"approver": ["x"]}, "approval"),
        ({"environments": {"prod": {"timeout": "1 day"}}}, "approval.environments.prod.timeout"),
    ],
)
def test_the_schema_names_the_bad_field(block, path):
    with pytest.raises(ConfigError) as raised:
        schema.check({"approval": block}, evaluated=True)
    assert raised.value.errors[0]["path"] == path, raised.value.errors


def test_a_templated_policy_passes_the_raw_schema():
    schema.check({"approval": {"required": {"value": "{{ env == 'production' }}"}, "timeout": "2h"}}, evaluated=False)


def test_slack_gets_link_buttons_and_other_notices_none():
    links = (
        ("Approve", "http://o.localhost/approvals/j/approve?x"),
        ("Reject", "http://o.localhost/approvals/j/reject?x"),
    )
    asked = slack.body(Notice(Level.WARN, "awaiting approval", "Orchestrator", actions=links))["attachments"][0]
    assert [(b["type"], b["text"], b["url"]) for b in asked["actions"]] == [("button", t, u) for t, u in links]
    assert "actions" not in slack.body(Notice(Level.SUCCESS, "deployed", "Orchestrator"))["attachments"][0]
