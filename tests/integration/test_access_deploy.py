"""A deployer token scoped to its repo deploys it for real (Docker, yoda-discover, yoda-proxy) and
the audit trail names it; the same request with a token of another repo changes nothing."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.fixtures.deployer import images
from tests.fixtures.deployer.harness import DeployerStack, deploy_request
from totem.access.audit import AuditLog
from totem.access.tokens import TokenStore

pytest_plugins = ["tests.images.fixtures"]  # docker_client


@pytest.fixture(scope="module")
def stack(docker_client):
    stack = DeployerStack(docker_client, drain=0.5).start()
    yield stack
    stack.stop()


@pytest.fixture
def tokens(stack):
    client = redis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    return TokenStore(client, stack.settings.access_prefix), AuditLog(client, stack.settings.access_prefix)


def test_a_repo_scoped_token_deploys_its_repo_and_is_audited(stack, tokens, docker_client):
    store, audit = tokens
    run = uuid.uuid4().hex[:8]
    ours, _ = store.create(f"ci-{run}", "deployer", scopes=["acme/*"])
    theirs, _ = store.create(f"other-{run}", "deployer", scopes=["globex/*"])
    app = f"scoped-{run}"
    request = deploy_request(app, "v1", images.build(docker_client, "v1"), f"{app}.localhost")
    assert request["meta-info"]["git"]["owner"] == "acme"

    refused = stack.client.post("/apps", json=request, headers={"Authorization": f"Bearer {theirs}"})
    assert refused.status_code == 403 and "not scoped to acme/hello" in refused.get_json()["error"]["message"]
    assert stack.client.get(f"/apps/{app}").status_code == 404  # nothing stored

    accepted = stack.client.post("/apps", json=request, headers={"Authorization": f"Bearer {ours}"})
    assert accepted.status_code == 202, accepted.get_json()
    record = stack.wait_finished(accepted.get_json()["deployment"]["id"], timeout=120)
    assert record["state"] == "PROMOTED", stack.logs()
    assert stack.get(f"{app}.localhost").status_code == 200

    trail = audit.query(app=app)
    assert [(r["actor"], r["action"], r["outcome"], r["status"]) for r in trail] == [
        (f"ci-{run}", "deploy", "ok", 202),
        (f"other-{run}", "deploy", "denied", 403),
    ]
    assert trail[0]["target"] == {"app": app, "owner": "acme", "repo": "hello", "ref": "master"}
