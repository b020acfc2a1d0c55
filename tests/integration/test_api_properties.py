"""Schemathesis, generating from each service's own `GET /openapi.json`, against the orchestrator,
the image factory and the deployer under gunicorn (the configuration they run with): no request
gets a 5xx, and every answer has a documented status code, content type and body schema.

Requests carry the API token, and hook bodies are signed as sent, so generated data reaches the
validation behind authentication. Private Redis keys, queues nobody consumes (so nothing is built or
deployed), private etcd prefixes; all removed afterwards."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
import requests
import schemathesis
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.fixtures.deployer.harness import Process
from tests.support import healthy, private_services_env
from totem import signatures
from totem.api import gunicorn_conf
from totem.net import free_port
from totem.store import connect
from totem.waiting import wait

REDIS_URL = "redis://127.0.0.1:6379/10"  # this suite's own database
RUN = uuid.uuid4().hex[:8]
TOKEN = f"props-token-{RUN}"
SECRET = f"props-secret-{RUN}"
ROOT = f"/test-props-{RUN}/"
SERVICES = ("orchestrator", "image_factory", "deployer")
CHECKS = (
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
)


class SignBody(requests.auth.AuthBase):
    """Signs the body exactly as sent, in both hook signature headers."""

    def __call__(self, request):
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        request.headers["X-Hook-Signature"] = signatures.sign(SECRET, body)
        request.headers["X-Hub-Signature-256"] = signatures.sign(SECRET, body)
        return request


def _env(work: Path) -> dict[str, str]:
    return private_services_env(
        RUN,
        ROOT,
        REDIS_URL,
        TOKEN,
        SECRET,
        work,
        TOTEM_ENCRYPTION_KEY=Fernet.generate_key().decode(),  # the secrets endpoints reached too
        TOTEM_TRAVIS_PUBLIC_KEY=_public_key_pem(),  # Travis hooks enabled, so their checks are reached
    )


def _public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    work = tmp_path_factory.mktemp("api-properties")
    env, urls, processes = _env(work), {}, []
    for name in SERVICES:
        urls[name] = f"http://127.0.0.1:{free_port()}"
        argv = gunicorn_conf.command(name, urls[name].removeprefix("http://"), "-w", "1", "--graceful-timeout", "2")
        processes.append(Process(argv, env, work / f"{name}.log").start())
    try:
        for name, url in urls.items():
            wait(lambda url=url: healthy(f"{url}/health"), 30, 0.2, what=f"{name} answering")
        yield urls
    finally:
        for process in processes:
            process.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{RUN}*"):
            client.delete(key)
        client.delete("orchestrator")  # the orchestrator's queue: nobody consumed what the hooks sent
        connect(env.get("TOTEM_ETCD_URL", "etcd://127.0.0.1:2379")).delete_prefix(ROOT)


@pytest.fixture(scope="module")
def session():
    with requests.Session() as session:
        session.auth = SignBody()
        yield session


FUZZ = settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _failures(schema, session) -> list[str]:
    """Every operation fuzzed in turn, with valid and with invalid data; what failed, one entry per
    operation and kind of data."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(mode))
            def exercise(case):
                headers = {"Authorization": f"Bearer {TOKEN}"}
                # a generous read timeout: on a loaded 2-core CI machine an answer can wait seconds for a thread
                case.call_and_validate(session=session, headers=headers, checks=list(CHECKS), timeout=30)

            try:
                exercise()
            except Unsatisfiable:  # nothing in the operation can be made invalid
                continue
            except Exception as exc:  # the check's report, after Hypothesis shrank the example
                found = [exc, *getattr(exc, "exceptions", ())]  # a flaky verdict carries what failed first
                failures.append(f"{operation.label} ({mode.value} data): " + "\n".join(map(str, found)))
    return failures


@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_is_documented_and_none_is_a_server_error(services, session, service):
    schema = schemathesis.openapi.from_url(f"{services[service]}/openapi.json")
    schema.config.update(base_url=services[service])  # the documents name no server
    failures = _failures(schema, session)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("service", SERVICES)
def test_gunicorn_refusals_come_in_the_json_error_envelope(services, service):
    for headers, path, status in (
        ({}, "/" + "a" * 9000, 414),
        ({"X-Long": "b" * 9000}, "/health", 431),
    ):
        answer = requests.get(services[service] + path, headers=headers, timeout=5)
        assert answer.status_code == status and answer.headers["Content-Type"] == "application/json"
        assert set(answer.json()["error"]) == {"code", "message", "details"}
