"""The operator's rollout and traffic controls through the CLI and the dashboard, against a real
deployer (served over HTTP), yoda-proxy/HAProxy, Docker and Prometheus: maintenance on/off answers
503 with Retry-After and then the app again; pause holds a request until resume; a canary waiting at
a manual step is aborted from the CLI, ends FAILED, and v1 keeps serving."""

from __future__ import annotations

import json
import re
import threading
import uuid

import pytest
import requests

from tests.browser.rollout_stack import TOKEN, RolloutStack, canary_request
from tests.fixtures.deployer import images
from tests.support import run_totem

pytest_plugins = ["tests.images.fixtures"]  # docker_client


@pytest.fixture(scope="module")
def surfaces(docker_client, tmp_path_factory):
    surfaces = RolloutStack(docker_client, tmp_path_factory.mktemp("prometheus")).start()
    yield surfaces
    surfaces.stop()


@pytest.fixture(scope="module")
def app_images(docker_client):
    return {v: images.build(docker_client, v) for v in ("v1", "v2")}


@pytest.fixture(autouse=True)
def environment(surfaces, monkeypatch):
    monkeypatch.setenv("TOTEM_DEPLOYER_URL", surfaces.deployer_url)
    monkeypatch.setenv("TOTEM_API_TOKEN", TOKEN)


@pytest.fixture(scope="module")
def served_app(surfaces, app_images):
    """An app with v1 live (blue-green): (name, host)."""
    app = f"rs-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    surfaces.live(app, app_images["v1"], host)
    return app, host


def served(surfaces: RolloutStack, host: str) -> str:
    response = surfaces.stack.get(host)
    return response.text.strip() if response.status_code == 200 else f"HTTP {response.status_code}"


class Held:
    """One request through the proxy from a thread; `answer` once it is answered."""

    def __init__(self, surfaces: RolloutStack, host: str):
        self.answer: requests.Response | Exception | None = None
        self.done = threading.Event()
        url = surfaces.stack.proxy.url("/")
        threading.Thread(target=self._send, args=(url, host), daemon=True).start()

    def _send(self, url: str, host: str) -> None:
        try:
            self.answer = requests.get(url, headers={"Host": host}, timeout=90)
        except requests.RequestException as exc:
            self.answer = exc
        self.done.set()


def test_maintenance_on_and_off_from_the_cli(surfaces, served_app, capsys):
    app, host = served_app
    assert run_totem("maintenance", "on", app, "--retry-after", "45") == 0
    assert capsys.readouterr().out == f"{app}: maintenance on: 503 with Retry-After 45s\n"
    answer = surfaces.stack.get(host)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "45"
    assert surfaces.view(app)["traffic"]["maintenance"] == {"retry-after": 45}
    assert run_totem("rollout", app) == 0
    assert "maintenance on (Retry-After 45s)" in capsys.readouterr().out
    assert run_totem("maintenance", "off", app, "--json") == 0
    assert json.loads(capsys.readouterr().out)["maintenance"] is None
    assert served(surfaces, host) == "version=v1"


def test_pause_holds_a_request_until_resume_from_the_cli(surfaces, served_app, capsys):
    app, host = served_app
    assert run_totem("pause", app, "--max", "60s") == 0
    assert capsys.readouterr().out == f"{app}: new requests held at the proxy for up to 60s (totem resume {app})\n"
    assert surfaces.view(app)["traffic"]["paused"] == {"max": 60}
    held = Held(surfaces, host)
    assert run_totem("rollout", app, "--json") == 0
    assert json.loads(capsys.readouterr().out)["traffic"]["paused"] == {"max": 60}
    assert not held.done.is_set()  # held for up to 60 s: only the resume lets it through
    assert run_totem("resume", app) == 0
    assert capsys.readouterr().out == f"{app}: requests flow again\n"
    assert held.done.wait(30)
    assert isinstance(held.answer, requests.Response), held.answer
    assert held.answer.status_code == 200 and held.answer.text.strip() == "version=v1"
    assert surfaces.view(app)["traffic"]["paused"] is None


def test_refusals_from_the_cli(surfaces, served_app, capsys, monkeypatch):
    app, _ = served_app
    assert run_totem("promote", app) == 1
    assert "totem promote: deployer:" in capsys.readouterr().err
    assert run_totem("abort", app, "--json") == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "nothing_to_abort"
    assert run_totem("maintenance", "on", "no-such-app") == 1
    assert capsys.readouterr().err.startswith("totem maintenance: deployer: ")
    monkeypatch.setenv("TOTEM_API_TOKEN", "not-the-token")
    assert run_totem("pause", app) == 1
    capsys.readouterr()
    assert surfaces.view(app)["traffic"]["paused"] is None


# -- the dashboard (its Flask test client, on the deployer served over HTTP) ----------------------


@pytest.fixture
def dashboard(surfaces):
    client = surfaces.dashboard.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    assert client.post("/login", data={"token": TOKEN, "csrf": token}).status_code == 302
    return client


def act(client, app: str, action: str, **form) -> str:
    """Confirm `action`, post the confirmation form, and the app page it lands on."""
    page = client.get(f"/apps/{app}/confirm/{action}").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = client.post(f"/apps/{app}/{action}", data={"csrf": token, **form})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client.get(f"/apps/{app}").get_data(as_text=True)


def test_maintenance_and_pause_from_the_dashboard(surfaces, served_app, dashboard):
    app, host = served_app
    page = dashboard.get(f"/apps/{app}").get_data(as_text=True)
    assert 'id="maintenance-on-button"' in page and 'id="pause-button"' in page and 'id="rollout"' not in page
    page = act(dashboard, app, "maintenance-on", **{"retry-after": "90"})
    assert "the proxy answers 503 (Retry-After 90s)" in page and 'id="maintenance-off-button"' in page
    answer = surfaces.stack.get(host)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "90"
    page = act(dashboard, app, "maintenance-off")
    assert "requests reach the app again" in page and 'id="maintenance-on-button"' in page
    assert served(surfaces, host) == "version=v1"

    page = act(dashboard, app, "pause", max="45s")
    assert "held for up to 45s" in page and 'id="resume-button"' in page and "requests held up to 45s" in page
    held = Held(surfaces, host)
    assert not held.done.is_set()
    page = act(dashboard, app, "resume")
    assert f"Traffic to {app} resumed." in page and 'id="pause-button"' in page
    assert held.done.wait(30)
    assert isinstance(held.answer, requests.Response) and held.answer.text.strip() == "version=v1", held.answer
    page = act(dashboard, app, "pause", max="10m")
    assert "Pause failed:" in page and surfaces.view(app)["traffic"]["paused"] is None


# -- a canary waiting at a manual step, aborted from the CLI --------------------------------------


def test_abort_from_the_cli_ends_a_canary_and_v1_keeps_serving(surfaces, app_images, capsys):
    app = f"rc-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    v1 = surfaces.live(app, app_images["v1"], host, canary=True)
    request = canary_request(app, "v2", app_images["v2"], host, [{"weight": 50, "pause": "manual"}])
    deployment = surfaces.stack.deploy(request).get_json()["deployment"]["id"]
    waiting = surfaces.wait_phase(app, "awaiting-promote")
    assert waiting["deployment"] == deployment and waiting["weight"] == 50 and waiting["step"] == 0
    assert run_totem("rollout", app) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == f"{app}: canary rollout of v2 ({deployment}), phase awaiting-promote"
    assert shown[1] == "step 1/1 (weight 50 %, pause manual), canary weight 50 %"
    assert run_totem("abort", app, "--reason", "wrong build", "--timeout", "90") == 0
    out = capsys.readouterr().out
    assert f"{app}: abort of {deployment} (v2) accepted" in out
    assert out.rstrip().splitlines()[-1].startswith(f"{deployment}: FAILED (") and "wrong build" in out
    record = surfaces.stack.deployment(deployment)
    assert record["state"] == "FAILED" and "wrong build" in record["error"], record
    assert surfaces.stack.deployment(v1)["state"] == "PROMOTED"
    assert served(surfaces, host) == "version=v1"
    assert surfaces.view(app)["rollout"]["phase"] == "aborted"
    assert run_totem("abort", app) == 1  # nothing in progress any more
    assert "totem abort: deployer:" in capsys.readouterr().err
