"""Builder hook shape, step recording, live-log redaction and build leases (real Redis), the factory's settings."""

import time
import uuid

import pytest
import redis

from image_factory.builder_hook import builder_hook
from image_factory.live_log import LiveLogWriter
from image_factory.pipeline import claim, heartbeat
from image_factory.records import WORKER_DIED, BuildStore
from image_factory.settings import ImageFactorySettings
from image_factory.steps import StepFailed, StepRecorder
from totem.logs import redact
from totem.settings import SettingsError

RECORD = {"id": "b123", "owner": "acme", "repo": "hello", "ref": "feature/x", "commit": "a" * 40}


def test_builder_hooks_follow_the_generic_hook_contract():
    image = "r/acme-hello:" + "a" * 40
    ok = builder_hook(RECORD, "success", image, images=[image, "r/acme-hello:x"])
    assert ok["type"] == "builder" and ok["name"] == "image-factory" and ok["status"] == "success"
    assert ok["git"] == {"owner": "acme", "repo": "hello", "ref": "feature/x", "commit": "a" * 40}
    assert ok["result"]["image"].endswith("a" * 40)
    failed = builder_hook(RECORD, "failed", error="build: docker build failed: boom")
    assert failed["result"] == {"build": "b123", "error": "build: docker build failed: boom"}


def test_steps_record_outcomes_and_redact_errors():
    saved, said = [], []
    recorder = StepRecorder(lambda steps: saved.append([dict(s) for s in steps]), said.append)
    secret = ImageFactorySettings.from_env(
        {"TOTEM_REGISTRY_USERNAME": "u", "TOTEM_REGISTRY_PASSWORD": "pw-unit-test-4242"}
    ).registry_password
    with recorder.step("checkout"):
        pass
    with pytest.raises(StepFailed, match="push: denied \\*\\*\\*"):
        with recorder.step("push"):
            raise RuntimeError(f"denied {secret}")
    final = saved[-1]
    assert [(s["name"], s["status"]) for s in final] == [("checkout", "succeeded"), ("push", "failed")]
    assert final[1]["error"] == "denied ***" and final[0]["duration_s"] >= 0
    assert said == ["==> checkout", "==> push", "!!! push failed: denied ***"]


@pytest.fixture
def live_log_key(settings):
    """A stream key of this test's own in the real Redis (TOTEM_REDIS_URL), removed afterwards."""
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    key = f"test:live-log:{uuid.uuid4().hex}"
    yield client, key
    client.delete(key)
    client.close()


def test_live_log_redacts_splits_and_marks_the_end(tmp_path, live_log_key):
    client, key = live_log_key
    ImageFactorySettings.from_env({"TOTEM_REGISTRY_USERNAME": "u", "TOTEM_REGISTRY_PASSWORD": "hunter2-pw"})
    writer = LiveLogWriter(client, key, tmp_path / "b.log.part", 100)
    writer.write("login with hunter2-pw\nStep 2\n")
    path = writer.close("succeeded")
    entries = [fields for _id, fields in client.xrange(key)]
    assert entries == [{"line": "login with ***"}, {"line": "Step 2"}, {"eof": "succeeded"}]
    assert path.read_text() == "login with ***\nStep 2\n" and client.ttl(key) > 0


@pytest.fixture
def store(settings):
    """A build store under a prefix of this test's own in the real Redis, its keys removed afterwards."""
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    store = BuildStore(client, f"test:image_factory:{uuid.uuid4().hex}")
    yield store
    for key in client.scan_iter(match=f"{store.prefix}:*"):
        client.delete(key)
    client.close()


def new_build(store: BuildStore) -> str:
    return store.create({"owner": "acme", "repo": "hello", "ref": "main", "commit": "a" * 40}, "test")["id"]


def test_a_dead_workers_build_is_queued_again_then_failed_after_its_attempts(store):
    build_id = new_build(store)
    first = claim(store, build_id, 0.2)
    assert first and first.attempt == 1 and store.running_ids() == [build_id]
    assert store.revive(build_id, 2) is None and not claim(store, build_id, 0.2)  # its worker is alive

    time.sleep(0.3)  # the worker died: no heartbeat renewed the lease
    assert store.revive(build_id, 2) == "queued" and store.running_ids() == []
    assert store.revive(build_id, 2) is None  # once only

    second = claim(store, build_id, 0.2)
    assert second and second.attempt == 2
    time.sleep(0.3)
    assert store.revive(build_id, 2) == "failed"
    record = store.get(build_id)
    assert (record["status"], record["error"], record["attempts"]) == ("failed", WORKER_DIED % 2, 2)
    assert record["finished_at"] and not claim(store, build_id, 0.2) and store.running_ids() == []


def test_the_heartbeat_keeps_the_lease_while_the_build_runs_and_releases_it(store):
    build_id = new_build(store)
    lease = claim(store, build_id, 0.4)
    assert lease
    with heartbeat(store, lease):
        time.sleep(1.0)  # more than twice the lease
        assert store.revive(build_id) is None and store.redis.exists(store.key("lease", build_id))
    assert not store.redis.exists(store.key("lease", build_id))
    store.finish(build_id, "succeeded")
    assert store.running_ids() == [] and store.revive(build_id) is None


def test_factory_settings():
    config = ImageFactorySettings.from_env(
        {
            "TOTEM_HOME": "/srv/totem",
            "TOTEM_IMAGE_FACTORY_CONCURRENCY": "4",
            "TOTEM_IMAGE_FACTORY_KEEP": "2",
            "TOTEM_BUILD_LOG_BUCKET": "logs",
        }
    )
    assert (config.concurrency, config.keep_per_repo, config.log_bucket) == (4, 2, "logs")
    assert str(config.workdir) == "/srv/totem/image_factory" and config.registry_auth() is None
    assert (config.lease_seconds, config.sweep_interval, config.build_attempts) == (20, 15, 3)
    assert "password" not in repr(ImageFactorySettings(registry_password="x"))
    with pytest.raises(SettingsError):
        ImageFactorySettings.from_env({"TOTEM_REGISTRY_PASSWORD": "orphan-password"})
    with pytest.raises(SettingsError):
        ImageFactorySettings.from_env({"TOTEM_BUILD_TIMEOUT": "soon"})
    with pytest.raises(SettingsError, match="TOTEM_IMAGE_FACTORY_BUILD_ATTEMPTS"):
        ImageFactorySettings.from_env({"TOTEM_IMAGE_FACTORY_BUILD_ATTEMPTS": "0"})
    assert redact("x orphan-password y") == "x *** y"  # registered before it was refused
