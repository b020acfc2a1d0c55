"""The dashboard's pages by role, with stand-in service clients (as tests/unit/test_dashboard_app.py):
sign-in through `/whoami`, buttons only for what the role, environment and repo scope allow, the
services' own 403 shown, a revoked token signing the session out, the audit pages and approvals."""

from __future__ import annotations

import time

import pytest

from tests.unit.test_dashboard_app import Deployer, Factory, csrf, record
from totem.settings import Settings
from totem_client import Clients, ServiceError
from totem_dashboard.app import create_app

WHO = {
    "viewer-token": {"name": "vera", "role": "viewer", "scopes": ["*"], "envs": ["*"]},
    "deployer-token": {"name": "dora", "role": "deployer", "scopes": ["*"], "envs": ["*"]},
    "other-repos-token": {"name": "otto", "role": "deployer", "scopes": ["acme/other-*"], "envs": ["*"]},
    "prod-token": {"name": "pia", "role": "deployer", "scopes": ["*"], "envs": ["prod"]},
}
ROLES = {"viewer": 0, "deployer": 1, "admin": 2}
BUTTONS = ('id="rollback-form"', 'id="undeploy-version"', 'id="pause-button"', 'id="maintenance-on-button"')
WAITING = {
    "id": "job-waiting-1",
    "owner": "acme",
    "repo": "shop",
    "ref": "main",
    "commit": "d" * 40,
    "state": "AWAITING_APPROVAL",
    "updated": 0,
    "trigger": {"actor": "pusher", "kind": "github"},
    "approval": {
        "state": "waiting",
        "commit": "d" * 40,
        "policy": {"approvers": ["viewer"], "timeout": "1h", "timeout-s": 3600, "self-approval": False, "env": "local"},
        "requested": time.time(),
        "deadline": time.time() + 3600,
        "decision": None,
    },
}
TRAIL = [
    {
        "id": "2-0",
        "time": 1764650000.0,
        "actor": "dora",
        "actor-kind": "token",
        "source": "127.0.0.1",
        "action": "rollback",
        "target": {"app": "shop", "owner": "acme", "repo": "shop", "ref": "main", "version": "v1"},
        "outcome": "ok",
        "status": 202,
        "details": {},
    },
    {
        "id": "1-0",
        "time": 1764640000.0,
        "actor": "vera",
        "actor-kind": "token",
        "source": "127.0.0.1",
        "action": "rollback",
        "target": {"app": "shop"},
        "outcome": "denied",
        "status": 403,
        "details": {},
    },
]


def role(token) -> str | None:
    return (WHO.get(token) or {}).get("role")


class Services(Deployer):
    """The deployer stand-in: `/whoami` for the tokens above (until revoked), and its own 403."""

    def __init__(self):
        super().__init__()
        self.revoked: set[str] = set()
        self.attempts: list[tuple] = []
        self.owner, self.repo = "acme", "shop"
        self.down = False

    def request(self, method, path, auth=False, **kwargs):
        if self.down:
            raise ServiceError("deployer", None, "unreachable", "cannot reach it")
        if self.token not in WHO or self.token in self.revoked:
            raise ServiceError("deployer", 401, "unauthorized", "invalid, expired or revoked bearer token")
        return WHO[self.token]

    def app(self, name):
        found = super().app(name)
        for deployment in found["deployments"]:
            deployment["request"]["meta-info"]["git"].update(owner=self.owner, repo=self.repo)
        return found

    def deployment(self, deployment_id):
        found = record(deployment_id.split("-")[1])
        found["request"]["meta-info"]["git"].update(owner=self.owner, repo=self.repo)
        return found

    def rollback(self, name, version=None):
        self.attempts.append(("rollback", self.token))
        if ROLES.get(role(self.token) or "", -1) < ROLES["deployer"]:
            who = WHO.get(self.token, {})
            message = f"token {who.get('name')} ({who.get('role')}) may not rollback: that needs the deployer role"
            raise ServiceError("deployer", 403, "forbidden", message)
        return super().rollback(name, version)


class Orchestrator:
    def __init__(self):
        self.token = None
        self.asked: list[dict] = []
        self.decided: list[tuple] = []
        self.refuse = False

    def with_token(self, token):
        self.token = token
        return self

    def request(self, method, path, auth=False, **kwargs):
        assert (method, path, auth) == ("GET", "/whoami", True)
        if self.token not in WHO:
            raise ServiceError("orchestrator", 401, "unauthorized", "invalid, expired or revoked bearer token")
        return WHO[self.token]

    def job(self, job_id):
        if job_id != WAITING["id"]:
            raise ServiceError("orchestrator", 404, "not_found", "no such job")
        return WAITING

    def jobs(self, **filters):  # summaries: without the approval, which only the job's own record has
        return {"jobs": [{k: v for k, v in WAITING.items() if k != "approval"}], "total": 1}

    def audit(self, **filters):
        if self.token not in WHO:
            raise ServiceError("orchestrator", 401, "unauthorized", "invalid, expired or revoked bearer token")
        self.asked.append(filters)
        return [r for r in TRAIL if not filters.get("app") or r["target"]["app"] == filters["app"]]

    def approve(self, job_id, comment=None, commit=None):
        return self._decide("approve", job_id, comment, commit)

    def reject(self, job_id, reason=None, commit=None):
        return self._decide("reject", job_id, reason, commit)

    def _decide(self, decision, job_id, text, commit):
        if self.refuse:
            raise ServiceError("orchestrator", 403, "forbidden", "the approval policy of acme/shop names deployers")
        self.decided.append((decision, job_id, text, commit, self.token))
        return {"id": job_id, "state": "SCHEDULED"}


@pytest.fixture
def services():
    return Services()


@pytest.fixture
def orchestrator():
    return Orchestrator()


@pytest.fixture
def app(services, orchestrator, monkeypatch):
    monkeypatch.delenv("TOTEM_DASHBOARD_SECRET", raising=False)
    return create_app(Settings(api_token=None, env="local"), Clients(orchestrator, services, Factory()))


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, token: str):
    answer = client.post("/login", data={"token": token, "csrf": csrf(client, "/login"), "next": "/apps/shop"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def app_page(client) -> str:
    return client.get("/apps/shop").get_data(as_text=True)


def test_sign_in_asks_the_services_who_the_token_is(client):
    sign_in(client, "viewer-token")
    page = app_page(client)
    assert "signed in as vera (viewer)" in page and 'data-role="viewer"' in page
    assert client.post("/login", data={"token": "nobody", "csrf": csrf(client, "/login")}).status_code == 401
    assert client.post("/login", data={"token": "two words", "csrf": csrf(client, "/login")}).status_code == 401


def test_with_the_deployer_down_the_orchestrator_says_who_the_token_is(client, services, orchestrator):
    services.down = True
    sign_in(client, "viewer-token")
    assert orchestrator.token == "viewer-token"
    assert client.post("/login", data={"token": "nobody", "csrf": csrf(client, "/login")}).status_code == 401


def test_a_viewer_sees_no_action_buttons(client):
    sign_in(client, "viewer-token")
    page = app_page(client)
    assert not [b for b in BUTTONS if b in page]
    assert "this token may not act on shop" in page


def test_a_deployer_sees_the_actions(client):
    sign_in(client, "deployer-token")
    page = app_page(client)
    assert [b for b in BUTTONS if b in page] == list(BUTTONS)
    assert "signed in as dora (deployer)" in page


def test_signed_out_the_buttons_lead_to_a_sign_in(client):
    page = app_page(client)
    assert 'id="rollback-form"' in page and "Actions need the API token" in page


def test_a_scoped_token_acts_only_on_the_repos_it_covers(client, services):
    sign_in(client, "other-repos-token")
    assert not [b for b in BUTTONS if b in app_page(client)]
    services.repo = "other-shop"
    assert [b for b in BUTTONS if b in app_page(client)] == list(BUTTONS)


def test_a_token_for_another_environment_acts_on_nothing_here(client):
    sign_in(client, "prod-token")
    assert not [b for b in BUTTONS if b in app_page(client)]


def test_hidden_buttons_are_not_the_check_the_deployers_403_is_shown(client, services):
    sign_in(client, "viewer-token")
    answer = client.post("/apps/shop/rollback", data={"csrf": csrf(client, "/apps/shop"), "version": "v1"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/apps/shop"
    assert services.attempts == [("rollback", "viewer-token")] and services.calls == []
    page = app_page(client)
    assert "Roll back refused: token vera (viewer) may not rollback" in page
    assert "signed in as vera (viewer)" in page  # a 403 keeps the session


def test_a_revoked_token_signs_the_session_out_at_the_next_check(app, client, services):
    app.config["TOTEM_DASHBOARD_RECHECK"] = 0
    sign_in(client, "deployer-token")
    assert "signed in as dora" in app_page(client)
    services.revoked.add("deployer-token")
    page = client.get("/apps", follow_redirects=True).get_data(as_text=True)
    assert "Signed out: the deployer no longer accepts your token" in page and "signed in as" not in page


def test_the_role_a_later_check_reports_is_the_one_shown(app, client):
    app.config["TOTEM_DASHBOARD_RECHECK"] = 0
    sign_in(client, "deployer-token")
    WHO["deployer-token"]["role"] = "viewer"
    try:
        page = app_page(client)
    finally:
        WHO["deployer-token"]["role"] = "deployer"
    assert "signed in as dora (viewer)" in page and 'id="rollback-form"' not in page


def test_the_audit_pages_ask_signed_out_users_to_sign_in(client, orchestrator):
    assert "The audit trail needs a token" in client.get("/audit").get_data(as_text=True)
    assert 'id="audit-sign-in"' in app_page(client)
    assert orchestrator.asked == []


def test_the_audit_page_reads_the_trail_with_the_operators_token(client, orchestrator):
    sign_in(client, "viewer-token")
    page = client.get("/audit?app=shop&actor=dora&since=1h").get_data(as_text=True)
    assert 'data-actor="dora" data-outcome="ok"' in page and 'data-outcome="denied"' in page
    asked = orchestrator.asked[-1]
    assert (asked["app"], asked["actor"], orchestrator.token) == ("shop", "dora", "viewer-token")
    assert abs(float(asked["since"]) - (time.time() - 3600)) < 60
    bad = client.get("/audit?since=last+tuesday").get_data(as_text=True)
    assert "is neither a duration" in bad and len(orchestrator.asked) == 1


def test_the_app_page_shows_the_apps_audit_trail(client, orchestrator):
    sign_in(client, "viewer-token")
    page = app_page(client)
    assert 'id="audit"' in page and 'data-actor="dora"' in page
    assert orchestrator.asked[-1]["app"] == "shop"
    live = client.get("/apps/shop", headers={"X-Fragment": "1"}).get_data(as_text=True)
    assert 'id="audit"' not in live and len(orchestrator.asked) == 1  # not asked again every 2 s


def test_a_job_awaiting_approval_offers_approve_and_reject(client):
    sign_in(client, "viewer-token")  # the policy decides who may: the orchestrator's 403 says
    jobs = client.get("/jobs").get_data(as_text=True)
    assert 'id="approve-job-waiting-1"' in jobs and 'id="reject-job-waiting-1"' in jobs
    job = client.get("/jobs/job-waiting-1").get_data(as_text=True)
    assert 'id="approve-job-waiting-1"' in job and 'data-state="waiting"' in job


def test_a_token_scoped_elsewhere_gets_no_approval_buttons(client):
    sign_in(client, "other-repos-token")
    assert 'id="approve-job-waiting-1"' not in client.get("/jobs").get_data(as_text=True)


def test_approve_and_reject_from_the_dashboard(client, orchestrator):
    sign_in(client, "deployer-token")
    confirm = client.get("/jobs/job-waiting-1/confirm/approve").get_data(as_text=True)
    assert 'id="confirm-button"' in confirm and "send its deploy requests" in confirm
    assert f'name="commit" value="{"d" * 40}"' in confirm  # decided only while that commit is held
    token = csrf(client, "/jobs/job-waiting-1/confirm/approve")
    answer = client.post("/jobs/job-waiting-1/approve", data={"csrf": token, "text": "looks good", "commit": "d" * 40})
    assert answer.status_code == 302 and answer.headers["Location"] == "/jobs/job-waiting-1"
    client.post("/jobs/job-waiting-1/reject", data={"csrf": token})
    assert orchestrator.decided == [
        ("approve", "job-waiting-1", "looks good", "d" * 40, "deployer-token"),
        ("reject", "job-waiting-1", None, None, "deployer-token"),
    ]
    assert "Job job-waiting- rejected." in client.get("/jobs/job-waiting-1").get_data(as_text=True)


def test_a_decision_needs_csrf_a_sign_in_and_the_orchestrators_consent(client, orchestrator):
    assert client.post("/jobs/job-waiting-1/approve", data={}).headers["Location"].startswith("/login")
    sign_in(client, "viewer-token")
    assert client.post("/jobs/job-waiting-1/approve", data={"csrf": "forged"}).status_code == 400
    assert client.get("/jobs/job-waiting-1/confirm/merge").status_code == 404
    orchestrator.refuse = True
    client.post("/jobs/job-waiting-1/approve", data={"csrf": csrf(client, "/jobs")})
    page = client.get("/jobs/job-waiting-1").get_data(as_text=True)
    assert "Approve refused: the approval policy of acme/shop names deployers" in page
    assert orchestrator.decided == []


@pytest.mark.parametrize(
    ("approvers", "author", "token", "offered"),
    [
        (["deployer"], "pusher", "viewer-token", False),  # a role admits that role or higher
        (["deployer"], "pusher", "deployer-token", True),
        (["vera"], "pusher", "viewer-token", True),  # any other entry names a token
        (["deployer"], "dora", "deployer-token", False),  # not the push's own author
    ],
)
def test_the_approval_buttons_follow_the_jobs_policy(client, monkeypatch, approvers, author, token, offered):
    approval = {**WAITING["approval"], "policy": {**WAITING["approval"]["policy"], "approvers": approvers}}
    monkeypatch.setitem(WAITING, "approval", approval)
    monkeypatch.setitem(WAITING, "trigger", {"actor": author})
    sign_in(client, token)
    assert ('id="approve-job-waiting-1"' in client.get("/jobs").get_data(as_text=True)) is offered
