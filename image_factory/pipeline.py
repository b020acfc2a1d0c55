"""One build, end to end: claim → checkout → docker build → push → builder hook → archive the log."""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from image_factory import builder_hook, checkout, docker_image, names
from image_factory.live_log import LiveLogWriter
from image_factory.log_archive import LogArchive
from image_factory.records import BuildStore
from image_factory.repo_config import build_options
from image_factory.settings import ImageFactorySettings
from image_factory.states import BuildStatus
from image_factory.steps import StepFailed, StepRecorder
from totem.contracts.hook import HookStatus
from totem.logs import log_context
from totem.settings import Settings

log = logging.getLogger("image_factory.pipeline")


@dataclass
class Factory:
    settings: Settings
    config: ImageFactorySettings
    store: BuildStore
    archive: LogArchive

    def build_dir(self, record: dict) -> Path:
        return self.config.workdir / "builds" / record["owner"] / record["repo"] / record["id"]


def claim(store: BuildStore, build_id: str, lease_seconds: int) -> bool:
    """Take a queued build, or a running one whose worker died (its lease expired)."""
    lease_key = store.key("lease", build_id)
    if not store.redis.set(lease_key, uuid.uuid4().hex, nx=True, ex=lease_seconds):
        return False
    claimable = (BuildStatus.QUEUED, BuildStatus.RUNNING)
    if store.transition(build_id, claimable, BuildStatus.RUNNING, started_at=time.time()):
        return True
    store.redis.delete(lease_key)
    return False


def run_build(factory: Factory, build_id: str) -> str:
    """Returns the build's final status (or its current one when another worker owns it)."""
    store, config, settings = factory.store, factory.config, factory.settings
    record = store.get(build_id)
    if record is None:
        log.warning("build %s is unknown", build_id)
        return "unknown"
    if not claim(store, build_id, config.lease_seconds):
        log.info("build %s not taken (status %s)", build_id, record["status"])
        return record["status"]
    with log_context(build_id=build_id):
        log.info("building %s/%s@%s (%s)", record["owner"], record["repo"], record["commit"], record["ref"])
        live = LiveLogWriter(
            store.redis,
            store.key("log", build_id),
            config.workdir / "logs" / f"{build_id}.log.part",
            config.live_log_lines,
        )
        steps = StepRecorder(lambda s: store.update(build_id, steps=s), live.write)
        status, image, images, error = _produce_image(factory, record, steps, live.write)
        hook_status = HookStatus.SUCCESS if status == BuildStatus.SUCCEEDED else HookStatus.FAILED
        hook = builder_hook.builder_hook(record, hook_status, image, error, images)
        try:
            with steps.step("hook"):
                code = builder_hook.deliver(
                    settings.orchestrator_url, hook, settings.hook_secret, config.hook_attempts, config.hook_backoff
                )
                live.write(f"orchestrator accepted the builder hook ({code})")
        except StepFailed as exc:
            status, error = BuildStatus.FAILED, error or str(exc)
        store.finish(
            build_id, status, image=image if status == BuildStatus.SUCCEEDED else None, images=images, error=error
        )
        factory.archive.save(build_id, live.close(status))
        store.redis.delete(store.key("lease", build_id))
        log.info("build %s %s", build_id, status)
        return status


def _produce_image(factory: Factory, record: dict, steps: StepRecorder, say) -> tuple:
    settings, config = factory.settings, factory.config
    tags = names.image_tags(settings.registry, record["owner"], record["repo"], record["ref"], record["commit"])
    directory = factory.build_dir(record)
    shutil.rmtree(directory, ignore_errors=True)  # left over from a crashed attempt
    try:
        with steps.step("checkout"):
            url = checkout.clone_url(settings.git_url_template, record["owner"], record["repo"])
            checkout.checkout(url, record["commit"], directory, config.checkout_timeout, say)
        with steps.step("build"), closing(docker_image.client(settings.docker_host, config.build_timeout)) as docker:
            options = build_options(directory)
            labels = {k: record[k] for k in ("owner", "repo", "ref", "commit")} | {"id": record["id"]}
            image_id = docker_image.build(docker.api, options, tags, labels, config.build_timeout, say)
            say(f"built {image_id}, tagged {', '.join(tags)}")
        with steps.step("push"), closing(docker_image.client(settings.docker_host, config.push_timeout)) as docker:
            for tag in tags:
                digest = docker_image.push(docker.api, tag, config.registry_auth(), config.push_timeout, say)
                say(f"pushed {tag} ({digest or 'no digest reported'})")
        return BuildStatus.SUCCEEDED, tags[0], list(tags), None
    except StepFailed as exc:
        return BuildStatus.FAILED, None, [], str(exc)
