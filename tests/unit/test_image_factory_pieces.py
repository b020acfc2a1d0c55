"""Builder hook shape, step recording, live-log redaction (into the real Redis) and the factory's settings."""

import uuid

import pytest
import redis

from image_factory.builder_hook import builder_hook
from image_factory.live_log import LiveLogWriter
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
    assert "password" not in repr(ImageFactorySettings(registry_password="x"))
    with pytest.raises(SettingsError):
        ImageFactorySettings.from_env({"TOTEM_REGISTRY_PASSWORD": "orphan-password"})
    with pytest.raises(SettingsError):
        ImageFactorySettings.from_env({"TOTEM_BUILD_TIMEOUT": "soon"})
    assert redact("x orphan-password y") == "x *** y"  # registered before it was refused
