"""Tokens against the real services under gunicorn (2 workers each): every documented write endpoint
of the orchestrator, the deployer and the image factory refuses no token (401), a viewer (403), a
deployer of another environment (403) or of another repo (403), and a revoked token (401) on every
worker from the first request after the revocation. A token scoped to its repo deploys it.

Private Redis database and keys, queues nobody consumes (nothing is built or deployed), private etcd
prefixes; all removed afterwards."""

from __future__ import annotations

import json
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from tests.fixtures.deployer.harness import REQUEST, Process
from tests.support import healthy, private_services_env
from totem.api import gunicorn_conf
from totem.net import free_port
from totem.store import connect
from totem.waiting import wait

REDIS_URL = "redis://127.0.0.1:6379/5"  # this module's own database
RUN = uuid.uuid4().hex[:8]
BOOTSTRAP = f"boot-{RUN}"
ROOT = f"/test-access-{RUN}/"
ENV = "staging"
SERVICES = ("orchestrator", "deployer", "image_factory")
SIGNED = ("/hooks/", "/approvals/")  # HMAC-signed, not token-authenticated
APP, VERSION = "acme-web", "v1"
VALUES = {"name": APP, "version": VERSION, "owner": "acme", "repo": "web", "ref": "main", "env": ENV}
BUILD = {"owner": "acme", "repo": "web", "ref": "main", "commit": "a" * 40}
WRITES = {"post", "put", "patch", "delete"}


def deploy_body(version: str = VERSION) -> dict:
    request = json.loads(REQUEST.read_text())
    request["meta-info"].update(env=ENV, git={"owner": "acme", "repo": "web", "ref": "main", "commit": "b" * 40})
    request["deployment"].update(name=APP, version=version)
    return request


def _env(work: Path) -> dict[str, str]:
    return private_services_env(RUN, ROOT, REDIS_URL, BOOTSTRAP, f"secret-{RUN}", work, TOTEM_ENV=ENV)


class Service:
    def __init__(self, name: str, url: str, log: Path):
        self.name, self.url, self.log = name, url, log

    def lines(self) -> list[str]:
        """gunicorn's access log: `pid status method path` per request."""
        return self.log.read_text().splitlines() if self.log.exists() else []

    def whoami(self, token: str) -> int:
        return requests.get(f"{self.url}/whoami", headers=bearer(token), timeout=10).status_code


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    work = tmp_path_factory.mktemp("access")
    env, found, processes = _env(work), {}, []
    for name in SERVICES:
        url = f"http://127.0.0.1:{free_port()}"
        access_log = work / f"{name}-access.log"
        argv = gunicorn_conf.command(
            name,
            url.removeprefix("http://"),
            *("-w", "2", "--graceful-timeout", "2", "--access-logfile", str(access_log)),
            *("--access-logformat", "%(p)s %(s)s %(m)s %(U)s"),
        )
        processes.append(Process(argv, env, work / f"{name}.log").start())
        found[name] = Service(name, url, access_log)
    try:
        for service in found.values():
            wait(lambda s=service: healthy(f"{s.url}/health"), 30, 0.2, what=f"{service.name} answering")
        yield found
    finally:
        for process in processes:
            process.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{RUN}*"):
            client.delete(key)
        for key in client.scan_iter(f"{os.environ['TOTEM_ACCESS_PREFIX']}:*"):
            client.delete(key)
        connect(env.get("TOTEM_ETCD_URL", "etcd://127.0.0.1:2379")).delete_prefix(ROOT)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def issue(services, name: str, role: str, **more) -> str:
    answer = requests.post(
        f"{services['orchestrator'].url}/tokens",
        json={"name": f"{name}-{RUN}", "role": role, **more},
        headers=bearer(BOOTSTRAP),
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["token"].startswith("totem_")
    return answer.json()["token"]


def write_operations(services) -> list[tuple[Service, str, str]]:
    """(service, method, concrete path) for every documented write, signed hooks and links aside."""
    found = []
    for service in services.values():
        spec = requests.get(f"{service.url}/openapi.json", timeout=10).json()
        for path, item in spec["paths"].items():
            if path.startswith(SIGNED):
                continue
            concrete = re.sub(r"\{([^{}]+)\}", lambda m: VALUES.get(m.group(1), "x"), path)
            found += [(service, method, concrete) for method in item if method in WRITES]
    return found


def body_for(service: Service, path: str):
    if service.name == "deployer" and path == "/apps":
        return deploy_body()
    if service.name == "image_factory" and path == "/builds":
        return BUILD
    return {}


@pytest.fixture(scope="module")
def deployed(services):
    """The app the deployer's write endpoints act on (stored; nobody consumes the queue)."""
    answer = requests.post(
        f"{services['deployer'].url}/apps", json=deploy_body(), headers=bearer(BOOTSTRAP), timeout=10
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["deployment"]


def send(service: Service, method: str, path: str, token: str | None) -> requests.Response:
    return requests.request(method, service.url + path, json=body_for(service, path), headers=bearer(token), timeout=10)


def test_every_write_endpoint_is_documented_with_its_401_and_403(services):
    operations = write_operations(services)
    assert {(s.name, m, p) for s, m, p in operations} >= {
        ("deployer", "post", "/apps"),
        ("deployer", "post", f"/apps/{APP}/rollback"),
        ("image_factory", "post", "/builds"),
        ("orchestrator", "delete", "/apps/acme/web/main"),
        ("orchestrator", "post", "/tokens"),
    }
    for service in services.values():
        spec = requests.get(f"{service.url}/openapi.json", timeout=10).json()
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method in WRITES and not path.startswith(SIGNED):
                    assert op.get("security") and {"401", "403"} <= set(op["responses"]), (service.name, method, path)


def test_no_token_is_a_401_and_a_viewer_a_403_everywhere(services, deployed):
    viewer = issue(services, "viewer", "viewer")
    for service, method, path in write_operations(services):
        missing = send(service, method, path, None)
        assert missing.status_code == 401, (service.name, method, path, missing.text)
        assert missing.json()["error"]["code"] == "unauthorized"
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        assert send(service, method, path, "totem_wrong").status_code == 401, (service.name, method, path)
        if "/approve" in path or "/reject" in path:
            continue  # the app's approval policy names who decides (tests/integration/test_approvals.py)
        refused = send(service, method, path, viewer)
        assert refused.status_code == 403, (service.name, method, path, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"


def test_a_token_of_another_environment_or_repo_is_a_403(services, deployed):
    elsewhere = issue(services, "prod-only", "admin", envs=["production"])
    other_repo = issue(services, "other-repo", "deployer", scopes=["other/*"])
    repo_bound = {
        ("deployer", "post", "/apps"),
        ("image_factory", "post", "/builds"),
        ("orchestrator", "delete", "/apps/acme/web/main"),
    }
    checked = 0
    for service, method, path in write_operations(services):
        answer = send(service, method, path, elsewhere)
        assert answer.status_code == 403 and "environment" in answer.json()["error"]["message"], (path, answer.text)
        if (service.name, method, path) in repo_bound or path.startswith(f"/apps/{APP}"):
            answer = send(service, method, path, other_repo)
            assert answer.status_code == 403, (service.name, method, path, answer.text)
            assert "not scoped to acme/web" in answer.json()["error"]["message"]
            checked += 1
    assert checked >= 8  # deploy, build, both undeploys, rollback, promote, abort, traffic controls
    versions = requests.get(f"{services['deployer'].url}/apps/{APP}/versions", timeout=10).json()["versions"]
    assert list(versions) == [VERSION] and len(versions[VERSION]) == 1  # nothing was changed


def test_a_scoped_deployer_token_deploys_its_repo(services, deployed):
    token = issue(services, "ci-bot", "deployer", scopes=["acme/*"], envs=["stag*"])
    answer = requests.post(
        f"{services['deployer'].url}/apps", json=deploy_body("v2"), headers=bearer(token), timeout=10
    )
    assert answer.status_code == 202, answer.text
    build = requests.post(f"{services['image_factory'].url}/builds", json=BUILD, headers=bearer(token), timeout=10)
    assert build.status_code in (200, 202), build.text
    me = requests.get(f"{services['deployer'].url}/whoami", headers=bearer(token), timeout=10).json()
    assert me == {"name": f"ci-bot-{RUN}", "role": "deployer", "scopes": ["acme/*"], "envs": ["stag*"]}


def test_a_revoked_token_is_refused_by_every_worker_at_once(services, deployed):
    token = issue(services, "short-lived", "deployer")

    def whoami_everywhere(expected: int) -> None:
        """Concurrent requests on new connections until both workers of each service answered."""
        for service in services.values():
            start, pids = len(service.lines()), set()
            for _ in range(50):
                with ThreadPoolExecutor(8) as pool:
                    answers = set(pool.map(lambda _, s=service: s.whoami(token), range(16)))
                assert answers == {expected}, (service.name, answers)
                pids = {line.split()[0] for line in service.lines()[start:] if " /whoami" in line}
                if len(pids) >= 2:
                    break
            assert len(pids) >= 2, f"{service.name}: one worker answered every request"

    whoami_everywhere(200)
    revoked = requests.delete(
        f"{services['orchestrator'].url}/tokens/short-lived-{RUN}", headers=bearer(BOOTSTRAP), timeout=10
    )
    assert revoked.status_code == 200 and revoked.json() == {"name": f"short-lived-{RUN}", "revoked": True}
    whoami_everywhere(401)
    for service, method, path in write_operations(services):
        assert send(service, method, path, token).status_code == 401, (service.name, method, path)
    listed = requests.get(f"{services['orchestrator'].url}/tokens", headers=bearer(BOOTSTRAP), timeout=10).json()
    assert f"short-lived-{RUN}" not in {t["name"] for t in listed["tokens"]}
    assert all("token" not in t for t in listed["tokens"])  # values are never listed


def test_tokens_are_stored_only_as_their_hash(services):
    token = issue(services, "hashed", "viewer")
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{os.environ['TOTEM_ACCESS_PREFIX']}:*"):
        kind = client.type(key)
        values = [client.get(key)] if kind == b"string" else list(client.hvals(key)) if kind == b"hash" else []
        values += [f for _, fields in client.xrange(key) for f in fields.values()] if kind == b"stream" else []
        assert all(token.encode() not in (value or b"") for value in values), key


def test_bad_token_requests_are_json_errors_and_change_nothing(services):
    orchestrator = services["orchestrator"].url
    for body in (
        {"name": "Bad Name", "role": "viewer"},
        {"name": "ok", "role": "root"},
        {"name": "x", "role": "viewer", "ttl": "soon"},
    ):
        answer = requests.post(f"{orchestrator}/tokens", json=body, headers=bearer(BOOTSTRAP), timeout=10)
        assert answer.status_code == 400 and "error" in answer.json(), answer.text
    issue(services, "twice", "viewer")
    again = requests.post(
        f"{orchestrator}/tokens", json={"name": f"twice-{RUN}", "role": "admin"}, headers=bearer(BOOTSTRAP), timeout=10
    )
    assert again.status_code == 409
    listed = {
        t["name"]: t
        for t in requests.get(f"{orchestrator}/tokens", headers=bearer(BOOTSTRAP), timeout=10).json()["tokens"]
    }
    assert listed[f"twice-{RUN}"]["role"] == "viewer" and "ok" not in listed and "x" not in listed
    missing = requests.delete(f"{orchestrator}/tokens/nobody-{RUN}", headers=bearer(BOOTSTRAP), timeout=10)
    assert missing.status_code == 404
