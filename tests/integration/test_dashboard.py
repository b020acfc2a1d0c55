"""The dashboard over HTTP against the whole stack: every page renders what the services hold, the
live part follows a running deployment, and signed-in actions reach the deployer."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser.fullstack import TOKEN, FullStack
from totem.waiting import wait


@pytest.fixture(scope="module")
def stack():
    stack = FullStack().start()
    try:
        stack.deploy("v1")
        assert stack.deploy("v2")["state"] == "PROMOTED", stack.logs()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def browser(stack):
    session = requests.Session()
    session.base = stack.urls["dashboard"]
    yield session
    session.close()


def get(session, path: str, **kwargs) -> requests.Response:
    response = session.get(session.base + path, timeout=15, **kwargs)
    assert response.status_code == 200, response.text
    return response


def csrf(session, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', get(session, path).text).group(1)


def signed_in(session, stack):
    answer = session.post(
        session.base + "/login",
        timeout=15,
        allow_redirects=False,
        data={"token": TOKEN, "csrf": csrf(session, "/login"), "next": f"/apps/{stack.app}"},
    )
    assert answer.status_code == 302
    return session


def current_state(html: str) -> tuple[str, str]:
    state = re.search(r'id="current-state">([A-Z]+)<', html).group(1)
    deployment = re.search(r"<h2>Timeline <span class=\"muted\">([^<]+)</span>", html).group(1)
    return deployment, state


def test_pages_show_what_the_services_hold(stack, browser):
    v1, v2 = stack.commits["v1"][:12], stack.commits["v2"][:12]
    apps = get(browser, f"/apps?owner={stack.owner}&repo={stack.repo}&ref={stack.ref}").text
    assert f'data-app="{stack.app}"' in apps and v2 in apps and "1/1 healthy" in apps
    page = get(browser, f"/apps/{stack.app}").text
    assert f'id="live-version">{v2}<' in page and "DECOMMISSIONED" in page and v1 in page
    assert page.count("phase phase-done") == 8 and "phase phase-skipped" in page  # CI is not required
    job_id = re.search(r'href="/jobs/([0-9a-f]+)"', page).group(1)
    job = get(browser, f"/jobs/{job_id}").text
    assert "builder:image-factory" in job and "JOB_COMPLETE" in job
    assert get(browser, f"/jobs?owner={stack.owner}&state=COMPLETE").text.count("state-complete") == 2
    builds = get(browser, f"/builds?owner={stack.owner}&status=succeeded").text
    build_id = re.search(r'href="/builds/(b[0-9a-f]+)"', builds).group(1)
    build = get(browser, f"/builds/{build_id}").text
    assert '<span class="ansi-fg-32">built</span>' in build and 'data-finished="true"' in build
    lines = get(browser, f"/builds/{build_id}/log-lines?after=0").json()
    assert lines["finished"] and lines["status"] == "succeeded" and "==&gt; build" in lines["html"]


def test_the_live_part_follows_a_running_deployment(stack, browser):
    signed_in(browser, stack)
    form = {"csrf": csrf(browser, f"/apps/{stack.app}/confirm/redeploy")}
    answer = browser.post(f"{browser.base}/apps/{stack.app}/redeploy", data=form, timeout=15, allow_redirects=False)
    assert answer.status_code == 302
    flash = get(browser, f"/apps/{stack.app}").text
    new_id = re.search(r"Redeploy of \S+ \S+ requested \(([^)]+)\)", flash).group(1)
    seen: list[str] = []

    def promoted():
        deployment, state = current_state(get(browser, f"/apps/{stack.app}", headers={"X-Fragment": "1"}).text)
        if deployment == new_id:
            seen.append(state)
        return state == "PROMOTED" and deployment == new_id

    wait(promoted, 60, 0.1, what="the redeploy promoted")
    assert set(seen) & {"NEW", "STARTED"}, seen
    assert stack.served() == "version=v2"


def test_actions_without_the_token_change_nothing(stack):
    session = requests.Session()
    page = session.get(f"{stack.urls['dashboard']}/apps/{stack.app}/confirm/rollback", timeout=15).text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = session.post(f"{stack.urls['dashboard']}/apps/{stack.app}/undeploy", data={"csrf": token}, timeout=15)
    assert answer.status_code == 401
    assert "Sign in with the API token" in answer.text
    assert stack.served() == "version=v2"


def test_undeploy_from_the_dashboard(stack, browser):
    signed_in(browser, stack)
    token = csrf(browser, f"/apps/{stack.app}")
    live = stack.commits["v2"][:12]
    answer = browser.post(
        f"{browser.base}/apps/{stack.app}/undeploy", data={"csrf": token, "version": live}, timeout=15
    )
    assert "serves traffic" in answer.text
    assert stack.served() == "version=v2"
    answer = browser.post(f"{browser.base}/apps/{stack.app}/undeploy", data={"csrf": token}, timeout=15)
    assert f"Undeploy of {stack.app} requested" in answer.text
    wait(lambda: stack.served() != "version=v2", 30, 0.2, what="the app undeployed")
