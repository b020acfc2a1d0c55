"""Celery tasks: run one build; retry (or fail) builds whose worker died; prune old images and build directories."""

from __future__ import annotations

import logging

from image_factory import cleanup, docker_image
from image_factory.context import factory
from image_factory.pipeline import requeue_dead, run_build
from image_factory.states import BuildStatus
from image_factory.worker import celery

log = logging.getLogger("image_factory.tasks")

BUILD_TASK = "image_factory.build"
CLEANUP_TASK = "image_factory.cleanup"
SWEEP_TASK = "image_factory.sweep"


@celery.task(name=BUILD_TASK, ignore_result=True)
def build(build_id: str) -> str:
    """Idempotent: a build already taken or finished is left alone."""
    return run_build(factory(), build_id)


@celery.task(name=SWEEP_TASK, ignore_result=True)
def sweep() -> dict:
    """On the beat schedule, every TOTEM_IMAGE_FACTORY_SWEEP_INTERVAL: any worker of the queue runs it."""
    return requeue_dead(factory(), build.delay)


@celery.task(name=CLEANUP_TASK, ignore_result=True)
def prune() -> dict:
    current = factory()
    keep = current.config.keep_per_repo
    active = {r["id"] for r in current.store.newest_first() if r["status"] == BuildStatus.RUNNING}
    dirs = cleanup.prune_build_dirs(current.config.workdir / "builds", keep, active)
    docker = docker_image.client(current.settings.docker_host, 120)
    try:
        images = cleanup.prune_images(docker.api, keep)
    finally:
        docker.close()
    log.info("cleanup removed %d images and %d build directories", len(images), len(dirs))
    return {"images": len(images), "build_dirs": len(dirs)}
