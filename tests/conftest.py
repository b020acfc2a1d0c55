"""Shared fixtures. Tests run against the real local stack (`totem stack up`)."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings

# no per-example deadline: a deadline is a timing assertion, and a loaded CI machine trips it
settings.register_profile("totem", deadline=None)
settings.load_profile("totem")

os.environ.setdefault("TOTEM_INSECURE_DEV", "0")
# the run's tokens and audit records, apart from the demo's: every service a test starts inherits it
ACCESS_PREFIX = os.environ["TOTEM_ACCESS_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}:access"


@pytest.fixture(scope="session", autouse=True)
def _forget_access_keys():
    """Remove the run's tokens and audit records from the shared Redis."""
    yield
    import redis

    from totem.settings import Settings

    try:
        client = redis.Redis.from_url(Settings.from_env().redis_url, socket_connect_timeout=2)
        for key in client.scan_iter(f"{ACCESS_PREFIX}:*", count=1000):
            client.delete(key)
    except redis.RedisError:
        pass  # no Redis in this run: nothing was written


@pytest.fixture
def settings():
    from totem.settings import Settings

    return Settings.from_env()


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix no other test uses, so tests can share one etcd."""
    return f"/test-{uuid.uuid4().hex[:12]}/"


@pytest.fixture(params=["etcd", "etcd2"])
def store(request, settings, unique_prefix):
    """The same store contract, once per adapter, against the real etcd."""
    from totem.store import connect

    address = settings.etcd_url.split("://", 1)[1]
    store = connect(f"{request.param}://{address}")
    yield store
    store.delete_prefix(unique_prefix)


@pytest.fixture
def private_etcd(tmp_path):
    """An etcd of the test's own, which it may stop and restart; stopped after the test."""
    from tests.support import PrivateEtcd

    etcd = PrivateEtcd(tmp_path).start()
    yield etcd
    etcd.stop()
