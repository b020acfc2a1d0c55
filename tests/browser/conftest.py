"""Headless Chromium (Debian's `chromium` + `chromedriver`) driven by Selenium, installed when missing;
the polling helpers every browser test uses, and the deployer-only stack of the rollout tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.images.fixtures import docker_client  # noqa: F401  (a fixture: `surfaces` needs it)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def _install() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if os.geteuid() != 0:
        pytest.skip("chromium and chromium-driver are missing: apt-get install -y chromium chromium-driver")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
    if subprocess.run(install, env=env, capture_output=True, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        subprocess.run(install, env=env, check=True, capture_output=True, timeout=900)


@pytest.fixture(scope="module")
def browser():
    _install()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="totem-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def screenshot(browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return take


@pytest.fixture(scope="module")
def surfaces(docker_client, tmp_path_factory):  # noqa: F811  (the fixture imported above)
    """A deployer stack with Prometheus and the dashboard on its API (tests/browser/rollout_stack.py)."""
    from tests.browser.rollout_stack import RolloutStack

    surfaces = RolloutStack(docker_client, tmp_path_factory.mktemp("prometheus")).start()
    yield surfaces
    surfaces.stop()


def until(browser, condition, timeout: float = 30):
    # live regions are replaced while we poll: an element found a moment ago may be gone
    return WebDriverWait(
        browser, timeout, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition)


def text(browser, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


def click(browser, element_id: str) -> None:
    """Click a button of the live region, again if the region was replaced under the click."""

    def clicked(b) -> bool:
        b.find_element(By.ID, element_id).click()
        return True

    until(browser, clicked)
