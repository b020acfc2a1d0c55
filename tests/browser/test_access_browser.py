"""Tokens with roles in real headless Chromium against the whole stack (tests/browser/fullstack.py):
a viewer signs in and sees no action buttons; a deployer rolls back from the dashboard and the audit
trail names them; a job held for approval goes on once approved from the dashboard; a revoked token
signs its session out."""

from __future__ import annotations

import uuid

import pytest
import redis
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.select import Select

from tests.browser.conftest import text, until
from tests.browser.fullstack import DOCKERFILE, START, TOKEN, TOTEM_YML, v2_live
from totem.access.tokens import TokenStore
from totem.waiting import wait

APPROVAL = "approval: {required: true, approvers: [deployer], timeout: 1h}\n"
ACTION_BUTTONS = ("rollback-form", "undeploy-version", "pause-button", "maintenance-on-button")


@pytest.fixture(scope="module")
def stack():
    # the run's own token store and audit trail; the dashboard asks /whoami on every page
    prefix = f"test-{uuid.uuid4().hex[:12]}:access"
    with v2_live({"TOTEM_ACCESS_PREFIX": prefix, "TOTEM_DASHBOARD_RECHECK": "0"}) as stack:
        yield stack


@pytest.fixture(scope="module")
def tokens(stack):
    client = redis.Redis.from_url(stack.env["TOTEM_REDIS_URL"], decode_responses=True)
    store = TokenStore(client, stack.env["TOTEM_ACCESS_PREFIX"])
    yield store
    client.close()


def make_token(tokens: TokenStore, role: str) -> tuple[str, str]:
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    token, _ = tokens.create(name, role)
    return name, token


def sign_in(stack, browser, token: str, then: str) -> None:
    browser.delete_all_cookies()
    browser.get(stack.urls["dashboard"] + f"/login?next={then}")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    until(browser, ready.presence_of_element_located((By.ID, "signed-in-as")))


def audit(stack, token: str, **filters) -> list[dict]:
    answer = requests.get(
        stack.urls["orchestrator"] + "/audit",
        params=filters,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["records"]


def test_a_viewer_sees_the_app_but_no_action_buttons(stack, tokens, browser, screenshot):
    name, token = make_token(tokens, "viewer")
    sign_in(stack, browser, token, f"/apps/{stack.app}")
    assert text(browser, "#signed-in-as") == f"signed in as {name} (viewer)"
    until(browser, lambda b: b.find_element(By.ID, "live-version").text == stack.commits["v2"][:12])
    assert [b for b in ACTION_BUTTONS if browser.find_elements(By.ID, b)] == []
    assert "may not act on" in text(browser, "#no-actions")
    assert browser.find_elements(By.CSS_SELECTOR, "#audit table.audit")  # a viewer reads the trail
    screenshot("access-viewer-app")


def test_a_deployer_rolls_back_and_the_audit_trail_names_them(stack, tokens, browser, screenshot):
    name, token = make_token(tokens, "deployer")
    sign_in(stack, browser, token, f"/apps/{stack.app}")
    assert text(browser, "#signed-in-as") == f"signed in as {name} (deployer)"
    version = stack.commits["v1"][:12]
    Select(until(browser, ready.presence_of_element_located((By.ID, "rollback-version")))).select_by_value(version)
    browser.find_element(By.CSS_SELECTOR, "#rollback-form button").click()
    until(browser, ready.presence_of_element_located((By.ID, "confirm-button"))).click()
    assert "Rollback of" in until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok"))).text
    until(browser, lambda b: b.find_element(By.ID, "live-version").text == version, 90)
    wait(lambda: stack.served() == "version=v1", 30, 0.2, what="the proxy serving v1")

    records = audit(stack, token, app=stack.app, action="rollback")
    assert records and records[0]["actor"] == name and records[0]["outcome"] == "ok", records
    assert records[0]["target"]["owner"] == stack.owner
    assert records[0]["details"]["forwarded-for"] == "127.0.0.1"  # the browser's address, from the dashboard
    browser.get(stack.urls["dashboard"] + f"/audit?app={stack.app}&actor={name}&since=1h")
    row = until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-action="rollback"]')))
    assert row.get_attribute("data-actor") == name and row.get_attribute("data-outcome") == "ok"
    screenshot("access-audit-rollback")


def test_a_job_held_for_approval_goes_on_once_approved_from_the_dashboard(stack, tokens, browser, screenshot):
    # written against docs/approvals.md: POST /jobs/<id>/approve on the orchestrator
    name, token = make_token(tokens, "deployer")
    sha = stack.git.commit(
        {
            "Dockerfile": DOCKERFILE,
            "start.sh": START.replace("VERSION", "v3"),
            "totem.yml": TOTEM_YML.format(nodes=stack.nodes, host=stack.host) + APPROVAL,
        },
        "version v3, approval required",
    )
    stack.git.push(stack.ref)
    stack.commits["v3"] = sha
    answer = requests.post(
        stack.urls["image_factory"] + "/builds",
        json={"owner": stack.owner, "repo": stack.repo, "ref": stack.ref, "commit": sha},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code in (200, 202), answer.text
    job = wait(lambda: held(stack, sha), 180, 0.5, what=f"a job of {sha[:12]} awaiting approval\n{stack.logs()}")
    assert stack.served() == "version=v1"  # held: nothing deployed yet

    sign_in(stack, browser, token, f"/jobs?owner={stack.owner}")
    approve = until(browser, ready.presence_of_element_located((By.ID, f"approve-{job['id']}")))
    screenshot("access-jobs-awaiting-approval")
    approve.click()
    until(browser, ready.presence_of_element_located((By.ID, "text"))).send_keys("approved in the browser")
    screenshot("access-confirm-approval")
    browser.find_element(By.ID, "confirm-button").click()
    assert "approved" in until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok"))).text
    until(browser, lambda b: b.find_element(By.ID, "job-state").text not in ("AWAITING_APPROVAL", ""), 60)
    wait(lambda: stack.served() == "version=v3", 180, 0.5, what=f"v3 deployed once approved\n{stack.logs()}")
    decided = stack.api("orchestrator", f"/jobs/{job['id']}")["approval"]
    assert decided["state"] == "approved" and decided["decision"]["by"] == name, decided
    assert [r["actor"] for r in audit(stack, token, actor=name, action="approve")] == [name]
    screenshot("access-job-approved")


def test_a_revoked_token_signs_the_session_out(stack, tokens, browser):
    name, token = make_token(tokens, "viewer")
    sign_in(stack, browser, token, "/apps")
    tokens.revoke(name)
    browser.get(stack.urls["dashboard"] + f"/apps/{stack.app}")
    flash = until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".flash.error")))
    assert "no longer accepts your token" in flash.text
    assert not browser.find_elements(By.ID, "signed-in-as")


def held(stack, commit: str) -> dict | None:
    found = stack.api("orchestrator", f"/jobs?owner={stack.owner}&repo={stack.repo}&state=AWAITING_APPROVAL")
    jobs = [j for j in (found or {}).get("jobs", []) if j.get("commit") == commit]
    return jobs[0] if jobs else None
