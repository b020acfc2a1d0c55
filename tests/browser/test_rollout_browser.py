"""The rollout controls in real headless Chromium: the operator signs in, opens the app page while a
canary waits at a manual step, sees the rollout panel (phase, step, weight, chart), clicks Abort,
confirms, and the deployment ends FAILED with v1 still serving; the page follows it without a reload."""

from __future__ import annotations

import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready

from tests.browser.conftest import click, text, until
from tests.browser.rollout_stack import TOKEN, canary_request
from tests.fixtures.deployer import images
from totem.waiting import wait


def test_abort_a_canary_from_the_dashboard(surfaces, docker_client, browser, screenshot):
    app = f"rb-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    v1 = surfaces.live(app, images.build(docker_client, "v1"), host, canary=True)
    request = canary_request(app, "v2", images.build(docker_client, "v2"), host, [{"weight": 50, "pause": "manual"}])
    deployment = surfaces.stack.deploy(request).get_json()["deployment"]["id"]
    surfaces.wait_phase(app, "awaiting-promote")

    site = surfaces.serve_dashboard()
    browser.get(f"{site}/login?next=/apps/{app}")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    until(browser, ready.presence_of_element_located((By.ID, "rollout")))
    shown = {"#rollout-phase": "awaiting-promote", "#rollout-step": "1 of 1", "#rollout-weight": "50 %"}
    until(browser, lambda b: {selector: text(b, selector) for selector in shown} == shown)
    assert until(browser, lambda b: text(b, "#traffic-state")) == "flowing"
    until(browser, ready.presence_of_element_located((By.ID, "promote-button")))
    screenshot("rollout-awaiting-promote")

    click(browser, "abort-button")
    until(browser, ready.presence_of_element_located((By.ID, "reason"))).send_keys("seen in the browser")
    assert "ends FAILED" in text(browser, "#confirm")
    screenshot("confirm-abort")
    browser.find_element(By.ID, "confirm-button").click()
    flash = until(browser, ready.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok")))
    assert f"Abort of {app} requested ({deployment})" in flash.text
    browser.execute_script("window.notReloaded = true;")
    until(browser, lambda b: b.find_element(By.ID, "current-state").text == "FAILED", 90)
    until(browser, lambda b: b.find_element(By.ID, "rollout").get_attribute("data-phase") == "aborted", 30)
    assert browser.execute_script("return window.notReloaded === true;")
    assert not browser.find_elements(By.ID, "abort-button")  # nothing in progress to abort any more
    screenshot("rollout-aborted")

    record = surfaces.stack.deployment(deployment)
    assert record["state"] == "FAILED" and "seen in the browser" in record["error"], record
    assert surfaces.stack.deployment(v1)["state"] == "PROMOTED"
    wait(lambda: surfaces.stack.get(host).text.strip() == "version=v1", 30, 0.2, what="v1 serving")
