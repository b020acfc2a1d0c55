"""One build, end to end: claim → checkout → docker build → push → builder hook → archive the log;
and the sweep that retries (or fails) a build whose worker died."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import RedisError

from image_factory import builder_hook, checkout, docker_image, names
from image_factory.builder_hook import HookError
from image_factory.coalescing import enqueue_failed
from image_factory.live_log import LiveLogWriter
from image_factory.log_archive import LogArchive
from image_factory.records import BuildStore
from image_factory.repo_config import build_options
from image_factory.settings import ImageFactorySettings
from image_factory.states import BuildStatus
from image_factory.steps import StepFailed, StepRecorder
from totem import metrics
from totem.contracts.hook import HookStatus
from totem.logs import log_context
from totem.settings import Settings
from totem.waiting import pause

log = logging.getLogger("image_factory.pipeline")


@dataclass
class Factory:
    settings: Settings
    config: ImageFactorySettings
    store: BuildStore
    archive: LogArchive

    def build_dir(self, record: dict) -> Path:
        return self.config.workdir / "builds" / record["owner"] / record["repo"] / record["id"]


@dataclass(frozen=True)
class Lease:
    """A worker's claim on a build, live while it is renewed (`heartbeat`)."""

    build_id: str
    token: str
    seconds: float
    attempt: int  # 1 for the first worker to take the build, 2 once that one died, ...


def claim(store: BuildStore, build_id: str, lease_seconds: float) -> Lease | None:
    """Take a queued build, or a running one whose worker died (its lease expired)."""
    token = uuid.uuid4().hex
    attempt = store.take(build_id, token, lease_seconds)
    return Lease(build_id, token, lease_seconds, attempt) if attempt else None


@contextmanager
def heartbeat(store: BuildStore, lease: Lease) -> Iterator[None]:
    """Renew the lease from a thread of this worker process while the build runs: when the worker
    dies the renewals stop with it, and the lease lapses within `lease.seconds`."""
    stop = threading.Event()
    thread = threading.Thread(target=_renew, args=(store, lease, stop), name="build-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        store.release(lease.build_id, lease.token)


def _renew(store: BuildStore, lease: Lease, stop: threading.Event) -> None:
    while not pause(lease.seconds / 4, stop):
        try:
            if not store.renew(lease.build_id, lease.token, lease.seconds):
                log.warning("build %s: another worker took it over (its lease lapsed)", lease.build_id)
                return
        except RedisError as exc:  # a blip: the next round takes the lease back if it lapsed meanwhile
            log.warning("build %s: lease not renewed (%s)", lease.build_id, type(exc).__name__)


def run_build(factory: Factory, build_id: str) -> str:
    """Returns the build's final status (or its current one when another worker owns it)."""
    store = factory.store
    record = store.get(build_id)
    if record is None:
        log.warning("build %s is unknown", build_id)
        return "unknown"
    lease = claim(store, build_id, factory.config.lease_seconds)
    if lease is None:
        log.info("build %s not taken (status %s)", build_id, record["status"])
        return record["status"]
    with log_context(build_id=build_id), heartbeat(store, lease):
        return _build(factory, record, lease.attempt)


def _build(factory: Factory, record: dict, attempt: int) -> str:
    started = time.monotonic()
    status = _build_attempt(factory, record, attempt)
    metrics.build_finished(str(status), time.monotonic() - started)
    return status


def _build_attempt(factory: Factory, record: dict, attempt: int) -> str:
    store, build_id = factory.store, record["id"]
    log.info("building %s/%s@%s (%s)", record["owner"], record["repo"], record["commit"], record["ref"])
    live = _live_log(factory, build_id)
    if attempt > 1:
        live.write(f"attempt {attempt}: the worker of the previous attempt died")
    steps = StepRecorder(lambda s: store.update(build_id, steps=s), live.write)
    status, image, images, error = _produce_image(factory, record, steps, live.write)
    hook_status = HookStatus.SUCCESS if status == BuildStatus.SUCCEEDED else HookStatus.FAILED
    hook = builder_hook.builder_hook(record, hook_status, image, error, images)
    try:
        with steps.step("hook"):
            live.write(f"orchestrator accepted the builder hook ({_deliver(factory, hook)})")
    except StepFailed as exc:
        status, error = BuildStatus.FAILED, error or str(exc)
    store.finish(build_id, status, image=image if status == BuildStatus.SUCCEEDED else None, images=images, error=error)
    factory.archive.save(build_id, live.close(status))
    log.info("build %s %s", build_id, status)
    return status


def _live_log(factory: Factory, build_id: str) -> LiveLogWriter:
    store, config = factory.store, factory.config
    path = config.workdir / "logs" / f"{build_id}.log.part"
    return LiveLogWriter(store.redis, store.key("log", build_id), path, config.live_log_lines)


def _deliver(factory: Factory, hook: dict) -> int:
    settings, config = factory.settings, factory.config
    return builder_hook.deliver(
        settings.orchestrator_url, hook, settings.hook_secret, config.hook_attempts, config.hook_backoff
    )


def requeue_dead(factory: Factory, enqueue: Callable[[str], None]) -> dict[str, int]:
    """Builds left running by a dead worker (their lease lapsed): queued again and their task sent,
    or failed (with a failed builder hook) once they had TOTEM_IMAGE_FACTORY_BUILD_ATTEMPTS."""
    store, counts = factory.store, Counter[str]()
    for build_id in store.running_ids():
        status = store.revive(build_id, factory.config.build_attempts)
        if status == BuildStatus.QUEUED:
            log.warning("build %s lost its worker: queued again", build_id)
            try:
                enqueue(build_id)
            except Exception as exc:  # the broker went away: fail it rather than leave it queued
                log.error("could not queue build %s again: %s", build_id, type(exc).__name__)
                enqueue_failed(store, build_id, "the build queue is unavailable")
                status = BuildStatus.FAILED
        if status == BuildStatus.FAILED:
            metrics.build_finished(status)  # its worker died: no duration
            _announce_failure(factory, build_id)
        if status:
            counts[status] += 1
    return dict(counts)


def _announce_failure(factory: Factory, build_id: str) -> None:
    """End the live log (followers stop) and tell the orchestrator, as a finished build does."""
    record = factory.store.get(build_id)
    if record is None:
        return
    log.error("build %s failed: %s", build_id, record["error"])
    live = _live_log(factory, build_id)
    live.write(f"!!! {record['error']}")
    try:
        _deliver(factory, builder_hook.builder_hook(record, HookStatus.FAILED, error=record["error"]))
    except HookError as exc:
        live.write(str(exc))
    factory.archive.save(build_id, live.close(BuildStatus.FAILED))


def _produce_image(factory: Factory, record: dict, steps: StepRecorder, say) -> tuple:
    settings, config = factory.settings, factory.config
    tags = names.image_tags(settings.registry, record["owner"], record["repo"], record["ref"], record["commit"])
    directory = factory.build_dir(record)
    shutil.rmtree(directory, ignore_errors=True)  # left over from a crashed attempt
    try:
        with steps.step("checkout"):
            url = checkout.clone_url(settings.git_url_template, record["owner"], record["repo"])
            tree = checkout.checkout(url, record["commit"], directory, config.checkout_timeout, say)
            factory.store.update(record["id"], tree=tree)
        with steps.step("build"), closing(docker_image.client(settings.docker_host, config.build_timeout)) as docker:
            if not _reuse(factory, record, docker.api, tree, tags, say):
                options = build_options(directory)
                labels = {k: record[k] for k in ("owner", "repo", "ref", "commit")} | {"id": record["id"], "tree": tree}
                image_id = docker_image.build(docker.api, options, tags, labels, config.build_timeout, say)
                say(f"built {image_id}, tagged {', '.join(tags)}")
        with steps.step("push"), closing(docker_image.client(settings.docker_host, config.push_timeout)) as docker:
            for tag in tags:
                digest = docker_image.push(docker.api, tag, config.registry_auth(), config.push_timeout, say)
                say(f"pushed {tag} ({digest or 'no digest reported'})")
        return BuildStatus.SUCCEEDED, tags[0], list(tags), None
    except StepFailed as exc:
        return BuildStatus.FAILED, None, [], str(exc)


def _reuse(factory: Factory, record: dict, api, tree: str, tags: tuple[str, ...], say) -> bool:
    """Tag the image an earlier build made from the same git tree (the same files: the same image),
    instead of building it again; False when there is none, reuse is off or the build was forced."""
    if record.get("forced") or not factory.config.reuse_images:
        return False
    found = docker_image.built_for_tree(api, record["owner"], record["repo"], tree)
    if found is None:
        return False
    docker_image.tag_all(api, found["Id"], tags)
    earlier = (found.get("Labels") or {}).get(docker_image.LABEL_PREFIX + "id")
    factory.store.update(record["id"], reused_from=earlier)
    say(f"tree {tree} was built already ({earlier}): reusing {found['Id']}, tagged {', '.join(tags)}")
    return True
