"""Turn a validated build request into a build record and a queued task (shared by both APIs)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from image_factory.coalescing import enqueue_failed, request_build
from image_factory.pipeline import Factory
from totem.api import ApiError
from totem.api.followers import FollowerSlots
from totem.git_names import validate_git

log = logging.getLogger("image_factory.api")


@dataclass
class Intake:
    factory: Factory
    enqueue: Callable[[str], None]  # sends the build task for a build id
    followers: FollowerSlots  # followed logs at once in this process (TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS)


def intake() -> Intake:
    return current_app.extensions["image_factory"]


def submit(git: dict[str, str], trigger: str, force: bool = False) -> tuple[dict[str, Any], bool]:
    """Returns (build record, created); a new build is queued, a reused one is returned as is.
    The names are checked here, the last step before Redis keys, git and docker (400 when invalid)."""
    validate_git(git)
    current = intake()
    record, created = request_build(current.factory.store, git, trigger, current.factory.config.recent_seconds, force)
    if created:
        try:
            current.enqueue(record["id"])
        except Exception as exc:  # broker down: the record says so instead of staying queued
            log.error("could not queue build %s: %s", record["id"], type(exc).__name__)
            enqueue_failed(current.factory.store, record["id"], "the build queue is unavailable")
            raise ApiError(503, "queue_unavailable", "the build queue is unavailable; try again") from None
    log.info(
        "build %s %s for %s/%s@%s",
        record["id"],
        "queued" if created else "reused",
        git["owner"],
        git["repo"],
        git["commit"],
    )
    return record, created


def celery_enqueue(queue: str) -> Callable[[str], None]:
    def enqueue(build_id: str) -> None:
        from image_factory.worker import celery

        celery.send_task("image_factory.build", args=[build_id], queue=queue, ignore_result=True)

    return enqueue
