"""The dashboard in real headless Chromium against the whole stack: a sample app built and deployed
through the pipeline (v1, then v2), shown in the apps list and on its page; an action without the
token is refused; a rollback from the UI makes the proxy serve v1 again, and the page follows it live."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.select import Select

from tests.browser.conftest import text, until
from tests.browser.fullstack import TOKEN, v2_live
from totem.waiting import wait


@pytest.fixture(scope="module")
def stack():
    with v2_live() as stack:
        yield stack


def test_apps_list_shows_the_deployed_app(stack, browser, screenshot):
    browser.get(stack.urls["dashboard"] + "/apps")
    row = until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-app="{stack.app}"]')))
    assert stack.commits["v2"][:12] in row.text
    assert "PROMOTED" in row.text and "1/1 healthy" in row.text
    link = row.find_element(By.LINK_TEXT, stack.host).get_attribute("href")
    assert link == f"http://{stack.host}:{stack.proxy.http}/"
    screenshot("apps")
    browser.get(stack.urls["dashboard"] + "/apps?repo=no-such-repo")
    assert "No apps match these filters" in text(browser, "#apps")
    browser.set_window_size(390, 844)
    browser.get(stack.urls["dashboard"] + f"/apps?owner={stack.owner}")
    assert stack.app in text(browser, "#apps")
    screenshot("apps-phone")
    browser.set_window_size(1280, 900)


def test_app_page_shows_timeline_and_instances(stack, browser, screenshot):
    browser.get(stack.urls["dashboard"] + f"/apps/{stack.app}")
    phases = {
        p.get_attribute("data-phase"): p.get_attribute("class")
        for p in browser.find_elements(By.CSS_SELECTOR, "#timeline .phase")
    }
    assert list(phases) == [
        "webhook",
        "build",
        "CI",
        "deploy",
        "healthy",
        "wired",
        "proxies applied",
        "drained",
        "promoted",
    ]
    assert all("phase-done" in phases[name] for name in ("webhook", "build", "healthy", "wired", "promoted"))
    assert "phase-skipped" in phases["CI"]
    instances = text(browser, "#instances")
    assert "GET /health → 200" in instances and "127.0.0.1:" in instances
    assert stack.host in text(browser, "#wiring")
    assert "DEPLOYMENT_PROMOTED" in text(browser, "#events")
    assert text(browser, "#live-version") == stack.commits["v2"][:12]
    screenshot("app")


def test_action_without_token_is_refused(stack, browser, screenshot):
    browser.get(stack.urls["dashboard"] + f"/apps/{stack.app}")
    Select(browser.find_element(By.ID, "rollback-version")).select_by_value(stack.commits["v1"][:12])
    browser.find_element(By.CSS_SELECTOR, "#rollback-form button").click()
    until(browser, ready.presence_of_element_located((By.ID, "confirm-button"))).click()
    assert "Sign in with the API token" in until(browser, ready.presence_of_element_located((By.ID, "refused"))).text
    screenshot("action-refused")
    assert stack.served() == "version=v2"
    browser.get(stack.urls["dashboard"] + "/login")
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    assert "not accepted" in until(browser, ready.presence_of_element_located((By.ID, "login-error"))).text
    assert stack.served() == "version=v2"


def test_rollback_from_the_ui_changes_what_the_proxy_serves(stack, browser, screenshot):
    browser.get(stack.urls["dashboard"] + f"/login?next=/apps/{stack.app}")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    until(browser, ready.presence_of_element_located((By.ID, "rollback-form")))
    cookie = browser.get_cookie("totem_dashboard")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert TOKEN not in cookie["value"]
    Select(browser.find_element(By.ID, "rollback-version")).select_by_value(stack.commits["v1"][:12])
    browser.find_element(By.CSS_SELECTOR, "#rollback-form button").click()
    screenshot("confirm-rollback")
    until(browser, ready.presence_of_element_located((By.ID, "confirm-button"))).click()
    assert "Rollback of" in until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok"))).text
    browser.execute_script("window.notReloaded = true;")
    version = stack.commits["v1"][:12]
    until(browser, lambda b: b.find_element(By.ID, "live-version").text == version, 90)
    assert browser.execute_script("return window.notReloaded === true;")
    wait(lambda: stack.served() == "version=v1", 30, 0.2, what="the proxy serving v1")
    screenshot("app-after-rollback")


def test_jobs_builds_and_a_coloured_build_log(stack, browser, screenshot):
    browser.get(stack.urls["dashboard"] + f"/jobs?owner={stack.owner}")
    assert "COMPLETE" in text(browser, "#jobs")
    screenshot("jobs")
    browser.get(stack.urls["dashboard"] + f"/builds?owner={stack.owner}")
    assert text(browser, "#builds").count("succeeded") == 2
    screenshot("builds")
    browser.find_element(By.CSS_SELECTOR, "#builds tbody a").click()
    green = until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, "#log .ansi-fg-32")))
    assert green.text == "built"
    assert "\x1b" not in text(browser, "#log")
    screenshot("build")


def test_app_page_follows_the_apps_log_live(stack, browser, screenshot):
    browser.get(stack.urls["dashboard"] + f"/apps/{stack.app}")
    until(browser, lambda b: text(b, "#app-logs-state") == "following")
    live = stack.api("deployer", f"/apps/{stack.app}")["live"]
    (instance,) = stack.docker.containers.list(filters={"label": [f"totem.deployment={live}"]})
    marker = f"printed-after-the-page-opened-{stack.id}"
    printed = instance.exec_run(["/bin/busybox", "sh", "-c", f"echo {marker} > /proc/1/fd/1"])
    assert printed.exit_code == 0, printed.output
    until(browser, lambda b: marker in text(b, "#app-log"))
    row = browser.find_element(By.XPATH, f'//pre[@id="app-log"]/span[contains(., "{marker}")]')
    short = instance.labels["totem.node"].removeprefix(f"{stack.app}-")
    assert row.get_attribute("data-instance") == short and row.text.startswith(f"{short} | ")
    screenshot("app-logs")


CHART = """const chart = Chart.getChart(document.getElementById(arguments[0]));
return chart ? chart.data.datasets.map(d => [d.label, d.data]) : null;"""


def test_delivery_page_charts_the_figures_and_lists_the_app(stack, browser, screenshot):
    figures = stack.api("deployer", f"/metrics/delivery?app={stack.app}")["apps"][stack.app]
    browser.get(stack.urls["dashboard"] + "/delivery")
    datasets = dict(until(browser, lambda b: b.execute_script(CHART, "delivery-chart-overall")))
    assert list(datasets) == ["succeeded", "failed or rolled back", "median lead time (h)"]
    assert sum(datasets["succeeded"]) + sum(datasets["failed or rolled back"]) == figures["deployments"] >= 2
    assert sum(datasets["failed or rolled back"]) == figures["failures"]
    row = browser.find_element(By.CSS_SELECTOR, f'#delivery-apps tr[data-app="{stack.app}"]')
    assert f"{figures['deployments']} ({figures['failures']} failed)" in row.text
    screenshot("delivery")
    browser.get(stack.urls["dashboard"] + f"/apps/{stack.app}")
    assert len(until(browser, lambda b: b.execute_script(CHART, "delivery-chart"))) == 3
    assert text(browser, '#delivery [data-figure="failure-rate"]').endswith(
        f"({figures['failures']} of {figures['deployments']})"
    )
