"""Encrypted variables end to end on the real deployer (API, Celery worker, yoda-discover, yoda-proxy)
and real Docker: an environment's key encrypts a random value; the instance reads it from
/run/secrets/NAME (NAME_FILE names it) and `docker inspect` shows no plaintext; no log of the
services, no API answer, no timeline event, no webhook notification holds it; a rotation and a
redeploy work, a retired key's values no longer decrypt, an opt-in exposes a value as a variable,
and the files are gone once the instances are. On a single-node swarm (a private engine) the value
is a Swarm secret instead, removed with the app (tests/cluster/test_swarm_secrets.py: on the rig)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from tests.fixtures.deployer.private_swarm import PrivateSwarm
from totem.contracts.labels import DEPLOYMENT, selector
from totem.waiting import wait

pytest_plugins = ["tests.images.fixtures"]  # docker_client
ENV = "local"  # the harness's deploy requests carry meta-info env "local"


class Webhook:
    """A local receiver of the deployer's webhook notifications: every body as received."""

    def __init__(self):
        self.bodies: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/notify"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class Answers:
    """The deployer's API through the stack's client, every answer's text kept for the final grep."""

    def __init__(self, stack: DeployerStack):
        self.stack, self.texts = stack, []

    def call(self, method: str, path: str, body: dict | None = None, expect: int | None = 200):
        response = self.stack.client.open(path, method=method, json=body, headers=self.stack.headers())
        self.texts.append(response.get_data(as_text=True))
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json()

    def deploy(self, request: dict) -> dict:
        answer = self.call("POST", "/apps", request, expect=202)
        return self.stack.wait_finished(answer["deployment"]["id"])

    def read_all(self, app: str, deployments: list[str]) -> None:
        self.call("GET", "/apps")
        self.call("GET", f"/apps/{app}")
        self.call("GET", f"/apps/{app}/versions")
        for deployment in deployments:
            self.call("GET", f"/deployments/{deployment}")


@pytest.fixture(scope="module")
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=0.5, discover_timeout=8.0).start()
    yield stack
    stack.stop()


@pytest.fixture
def webhook():
    receiver = Webhook()
    yield receiver
    receiver.close()


def exec_text(container, script: str) -> str:
    result = container.exec_run(["/bin/busybox", "sh", "-c", script])
    assert result.exit_code == 0, result.output
    return result.output.decode().strip()


def request_for(app: str, version: str, image: str, host: str, webhook: Webhook, **environment) -> dict:
    request = deploy_request(app, version, image, host, nodes=1, check={"min-nodes": 1, "path": "/health"})
    request["environment"] = {"PLAIN": "visible", **environment}
    request["security"] = {"secrets-as-env": ["GREETING"]}
    request["notifications"] = {"webhook": {"enabled": True, "level": 5, "url": webhook.url}}
    return request


def test_encrypted_values_reach_instances_as_files_and_nowhere_else(stack, docker_client, webhook, caplog):
    caplog.set_level(logging.INFO)
    app = f"sec-{uuid.uuid4().hex[:8]}"
    host = f"{app}.localhost"
    image = images.build(docker_client, "v1")
    secret = "s-" + secrets.token_urlsafe(24)
    greeting = "g-" + secrets.token_urlsafe(24)
    api = Answers(stack)
    secret_dirs: list[str] = []
    try:
        sealed = api.call("POST", f"/secrets/{ENV}/encrypt", {"value": secret})
        assert sealed["encrypted"] is True and sealed["key"]
        first_key = sealed["key"]
        exposed = api.call("POST", f"/secrets/{ENV}/encrypt", {"value": greeting})["value"]
        environment = {
            "API_KEY": {"value": sealed["value"], "encrypted": True},
            "GREETING": {"value": exposed, "encrypted": True},
        }

        # v1: the file, NAME_FILE, no NAME; GREETING opted in as a variable too
        v1 = api.deploy(request_for(app, "v1", image, host, webhook, **environment))
        assert v1["state"] == "PROMOTED", (v1, stack.logs())
        (container,) = stack.containers(deployment=v1["id"])
        assert exec_text(container, "/bin/busybox cat /run/secrets/API_KEY") == secret
        shown = exec_text(container, 'echo "$API_KEY_FILE ${API_KEY-unset} $PLAIN"')
        assert shown == "/run/secrets/API_KEY unset visible"
        assert exec_text(container, "/bin/busybox stat -c %a /run/secrets/API_KEY") == "400"
        inspected = json.dumps(docker_client.api.inspect_container(container.id))
        assert secret not in inspected
        assert f"GREETING={greeting}" in inspected  # the app's opt-in, and only that
        assert wait(lambda: stack.get(host, "/env.txt").text.strip(), 20, what="v1 served") == f"greeting={greeting}"
        secret_dirs += [m["Source"] for m in container.attrs["Mounts"] if m["Destination"] == "/run/secrets"]
        assert secret_dirs and all(d.startswith("/dev/shm/totem-secrets/") for d in secret_dirs)

        # rotate; the values re-encrypted with the new primary; a redeploy still delivers them
        rotated = api.call("POST", f"/secrets/{ENV}/rotate", expect=201)
        assert rotated["primary"]["id"] != first_key
        renewed = api.call("POST", f"/secrets/{ENV}/reencrypt", {"values": [sealed["value"], exposed]})
        assert renewed["key"] == rotated["primary"]["id"]
        fresh = {
            "API_KEY": {"value": renewed["values"][0], "encrypted": True},
            "GREETING": {"value": renewed["values"][1], "encrypted": True},
        }
        v2 = api.deploy(request_for(app, "v2", image, host, webhook, **fresh))
        assert v2["state"] == "PROMOTED", (v2, stack.logs())
        (container,) = stack.containers(deployment=v2["id"])
        assert exec_text(container, "/bin/busybox cat /run/secrets/API_KEY") == secret
        assert secret not in json.dumps(docker_client.api.inspect_container(container.id))
        secret_dirs += [m["Source"] for m in container.attrs["Mounts"] if m["Destination"] == "/run/secrets"]
        wait(lambda: stack.deployment(v1["id"])["state"] == "DECOMMISSIONED", 30, what="v1 decommissioned")
        wait(lambda: not os.path.isdir(secret_dirs[0]), 10, what="v1's files gone with its instance")

        # the old key retired: a value only it decrypts fails the deployment, naming the variable only
        keys = api.call("GET", f"/secrets/{ENV}/keys")["keys"]
        assert [k["id"] for k in keys][:2] == [rotated["primary"]["id"], first_key]
        api.call("DELETE", f"/secrets/{ENV}/keys/{first_key}")
        stale = api.deploy(request_for(app, "v3", image, host, webhook, **environment))
        assert stale["state"] == "FAILED" and "API_KEY" in stale["error"], stale
        assert stack.deployment(v2["id"])["state"] == "PROMOTED"

        api.read_all(app, [v1["id"], v2["id"], stale["id"]])
        api.call("DELETE", f"/apps/{app}", expect=202)
        wait(lambda: not stack.containers(app=app), 30, what="the app's instances removed")
        wait(lambda: not any(os.path.isdir(d) for d in secret_dirs), 10, what="their secret files removed")
    finally:
        for directory in secret_dirs:  # what a failed assertion left behind, and the empty files left in their place
            if os.path.isdir(directory):
                shutil.rmtree(directory, ignore_errors=True)
            elif os.path.isfile(directory):
                os.remove(directory)

    assert wait(lambda: len(webhook.bodies) >= 3, 10, what="notifications received")
    logs = [p.read_text(errors="replace") for p in sorted(stack.work.glob("*.log"))]
    if stack.proxy:
        logs.append(stack.proxy.log())
    logs.append(caplog.text)
    events = [json.dumps(stack.deployment(d["id"])["timeline"]) for d in (v1, v2, stale)]
    everything = {"answers": api.texts, "webhook": webhook.bodies, "logs": logs, "events": events}
    for where, texts in everything.items():
        for text in texts:
            assert secret not in text, where
            assert greeting not in text, where


@pytest.fixture(scope="module")
def swarm():
    swarm = PrivateSwarm().start()
    yield swarm
    swarm.stop()


def swarm_secret_checks(stack: DeployerStack, manager, engines: list, image: str) -> None:
    """Deploy with an encrypted variable on a swarm: a Swarm secret at /run/secrets/NAME, no plaintext
    in the service's or the secret's inspection; the secret removed with the app."""
    app = f"swsec-{uuid.uuid4().hex[:8]}"
    secret = "w-" + secrets.token_urlsafe(24)
    api = Answers(stack)
    token = api.call("POST", f"/secrets/{ENV}/encrypt", {"value": secret})["value"]
    request = deploy_request(app, "v1", image, f"{app}.localhost", nodes=1, check={"min-nodes": 1, "path": "/health"})
    request["environment"] = {"API_KEY": {"value": token, "encrypted": True}}
    record = stack.wait_finished(api.call("POST", "/apps", request, expect=202)["deployment"]["id"], timeout=180)
    assert record["state"] == "PROMOTED", f"{record.get('error')}\n{stack.logs()}"
    (service,) = manager.services.list(filters={"label": selector(DEPLOYMENT, record["id"])})
    spec = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert [s["File"]["Name"] for s in spec["Secrets"]] == ["API_KEY"]
    assert "API_KEY_FILE=/run/secrets/API_KEY" in spec["Env"] and not any(e.startswith("API_KEY=") for e in spec["Env"])
    assert secret not in json.dumps(service.attrs)
    attached = manager.secrets.get(spec["Secrets"][0]["SecretID"])
    assert secret not in json.dumps(attached.attrs)
    containers = [c for e in engines for c in e.containers.list(filters={"label": selector(DEPLOYMENT, record["id"])})]
    assert containers and exec_text(containers[0], "/bin/busybox cat /run/secrets/API_KEY") == secret
    assert secret not in json.dumps(containers[0].attrs)

    api.read_all(app, [record["id"]])
    api.call("DELETE", f"/apps/{app}", expect=202)
    owned = {"label": selector(DEPLOYMENT, record["id"])}
    wait(lambda: not manager.services.list(filters=owned), 60, what="the services removed")
    wait(lambda: not manager.secrets.list(filters=owned), 30, what="the secrets removed")
    for text in [*api.texts, stack.logs(), json.dumps(stack.deployment(record["id"])["timeline"])]:
        assert secret not in text


def test_on_swarm_encrypted_values_are_swarm_secrets(swarm):
    stack = DeployerStack(swarm.client, drain=0.5, scheduler="swarm", swarm_host=swarm.socket).start()
    try:
        swarm_secret_checks(stack, swarm.client, [swarm.client], images.build(swarm.client, "v1"))
    finally:
        stack.stop()
