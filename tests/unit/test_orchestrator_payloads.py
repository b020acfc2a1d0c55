"""Realistic webhook payloads (tests/fixtures/orchestrator and tests/fixtures/github), filled in per test;
their signing, JSON or form-encoded as GitHub sends them; and an orchestrator app on the real Redis
whose queue is a list."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from orchestrator.runtime import QUEUE
from totem import signatures

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "orchestrator"
GITHUB_FIXTURES = FIXTURES.parent / "github"  # whole deliveries as GitHub sends them
FORM = "application/x-www-form-urlencoded"


def payload(name: str, folder: Path = FIXTURES, **values: str) -> dict:
    """Load `<name>.json`, replacing __OWNER__, __REPO__, __REF__, __SHA__, ... with `values`."""
    text = (folder / f"{name}.json").read_text()
    for key, value in values.items():
        text = text.replace(f"__{key.upper()}__", value)
    return json.loads(text)


def github_payload(name: str, **values: str) -> dict:
    """A delivery of tests/fixtures/github (`push`, `workflow_run-completed`), filled in."""
    return payload(name, GITHUB_FIXTURES, **values)


def form_encode(body: dict) -> bytes:
    """GitHub's `application/x-www-form-urlencoded` delivery: `payload=<url-encoded JSON>`."""
    return urllib.parse.urlencode({"payload": json.dumps(body)}).encode()


def commit() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


def github_headers(
    secret: str, body: bytes, event: str, delivery: str | None = None, content_type: str = "application/json"
) -> dict:
    """GitHub's headers for `body` as sent (the signature is over these bytes, whatever the content type)."""
    return {
        "Content-Type": content_type,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signatures.sign(secret, body),
        "User-Agent": "GitHub-Hookshot/abc",
    }


def generic_hook(owner, repo, ref, sha, type_="builder", name="image-factory", status="success", **extra) -> dict:
    hook = {
        "git": {"owner": owner, "repo": repo, "ref": ref, "commit": sha},
        "type": type_,
        "name": name,
        "status": status,
        "result": {},
    }
    if type_ == "builder" and status == "success":
        hook["result"] = {"image": f"127.0.0.1:5000/{owner}-{repo}:{sha}"}
    hook.update(extra)
    return hook


class TravisKey:
    """A generated RSA key standing in for Travis's: sign payloads, publish the PEM."""

    def __init__(self):
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, payload: str) -> str:
        return base64.b64encode(self.private.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA1())).decode()


@functools.cache
def shared_travis_key() -> TravisKey:
    """One key for every unit orchestrator that takes Travis notifications (a key takes a while to make)."""
    return TravisKey()


def github_delivery(secret: str, body: dict, event: str, form: bool = False, delivery: str | None = None):
    """(raw body, headers) of one signed delivery, JSON or form-encoded."""
    raw = form_encode(body) if form else json.dumps(body).encode()
    return raw, github_headers(secret, raw, event, delivery, FORM if form else "application/json")


UNIT_REDIS_URL = "redis://127.0.0.1:6379/14"  # no worker consumes this database's queue


@dataclass
class UnitOrchestrator:
    """An orchestrator app on the real Redis (a database no worker reads) under a prefix of its own;
    `queued`: the tasks it queued, through Celery (`sent`) or in a hook's own write (jobs.queued)."""

    client: object
    runtime: object
    secret: str
    tag: str
    sent: list[tuple] = field(default_factory=list)
    travis_key: TravisKey | None = None  # signs Travis notifications the app accepts

    def _written(self) -> list[tuple[str, tuple]]:
        """(raw message, (task, *args)) of the queue's messages for this app's jobs, oldest first."""
        redis, found = self.runtime.redis, []
        for raw in reversed(redis.lrange(QUEUE, 0, -1)):  # LPUSHed: the oldest is last
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            if args and redis.exists(self.runtime.key("job", str(args[0]))):
                found.append((raw, (message["headers"]["task"].rpartition(".")[2], *args)))
        return found

    @property
    def queued(self) -> list[tuple]:
        return [task for _, task in self._written()] + self.sent

    def forget_queued(self) -> None:
        for raw, _ in self._written():
            self.runtime.redis.lrem(QUEUE, 0, raw)

    def delivery_id(self) -> str:
        return f"{self.tag}-{uuid.uuid4()}"

    def stored(self) -> list[str]:
        """Every Redis key this app has written (jobs, events, freezes, delivery ids)."""
        redis = self.runtime.redis
        keys = list(redis.scan_iter(match=f"{self.runtime.options.redis_prefix}:*", count=500))
        return keys + list(redis.scan_iter(match=f"totem:orchestrator:delivery:{self.tag}-*", count=500))


@contextlib.contextmanager
def unit_orchestrator(travis: bool = False, **env: str):
    """An orchestrator app (UnitOrchestrator); with `travis`, it takes notifications signed by `travis_key`."""
    from orchestrator.app import create_app
    from orchestrator.settings import OrchestratorSettings
    from totem.settings import Settings

    tag = f"unit{uuid.uuid4().hex[:10]}"
    secret = f"secret-{tag}"
    environ = {
        **os.environ,
        "TOTEM_HOOK_SECRET": secret,
        "TOTEM_API_TOKEN": f"token-{tag}",
        "TOTEM_INSECURE_DEV": "0",
        "TOTEM_ORCHESTRATOR_PREFIX": f"totem-test:orchestrator:{tag}",
        **({"TOTEM_TRAVIS_PUBLIC_KEY": shared_travis_key().public_pem} if travis else {}),
        "TOTEM_REDIS_URL": UNIT_REDIS_URL,
        **env,
    }
    app = create_app(Settings.from_env(environ), OrchestratorSettings.from_env(environ))
    rt = app.extensions["orchestrator"]
    unit = UnitOrchestrator(app.test_client(), rt, secret, tag, travis_key=shared_travis_key() if travis else None)
    rt.enqueue = lambda task, *args: unit.sent.append((task, *args))
    try:
        yield unit
    finally:
        unit.forget_queued()
        for key in unit.stored():
            rt.redis.delete(key)
        rt.redis.close()


def test_every_fixture_is_valid_json_once_filled_in():
    for path in [*FIXTURES.glob("*.json"), *GITHUB_FIXTURES.glob("*.json")]:
        data = payload(
            path.stem,
            path.parent,
            owner="o",
            repo="r",
            ref="master",
            sha="a" * 40,
            workflow="CI",
            conclusion="success",
            status_message="Passed",
        )
        assert isinstance(data, dict) and not re.search(r"__[A-Z]+__", json.dumps(data)), path.name
