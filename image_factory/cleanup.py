"""Periodic cleanup: keep the newest N local images and build directories per repository."""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from collections.abc import Set as AbstractSet
from pathlib import Path

from docker.errors import APIError, NotFound

from image_factory.docker_image import LABEL_PREFIX

log = logging.getLogger("image_factory.cleanup")


def prune_images(api, keep: int, owner: str | None = None) -> list[str]:
    """Remove all but the newest `keep` images built by the factory, per owner/repo. Returns removed ids."""
    label = f"{LABEL_PREFIX}owner={owner}" if owner else f"{LABEL_PREFIX}repo"
    by_repo: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for image in api.images(filters={"label": label}):
        labels = image.get("Labels") or {}
        by_repo[(labels.get(LABEL_PREFIX + "owner", ""), labels.get(LABEL_PREFIX + "repo", ""))].append(image)
    removed = []
    for images in by_repo.values():
        for image in sorted(images, key=lambda i: i.get("Created", 0), reverse=True)[keep:]:
            try:
                api.remove_image(image["Id"], force=True, noprune=False)
                removed.append(image["Id"])
            except NotFound:
                pass
            except APIError as exc:  # in use by a container: try again next time
                log.info("image %s kept: %s", image["Id"][:19], exc.explanation)
    return removed


def prune_build_dirs(builds_root: Path, keep: int, active: AbstractSet[str] = frozenset()) -> list[Path]:
    """Under builds/<owner>/<repo>/<build id>: remove all but the newest `keep` (never an active build)."""
    removed = []
    for repo_dir in (p for owner in _dirs(builds_root) for p in _dirs(owner)):
        old = sorted(_dirs(repo_dir), key=lambda p: p.stat().st_mtime, reverse=True)[keep:]
        for build_dir in old:
            if build_dir.name not in active:
                shutil.rmtree(build_dir, ignore_errors=True)
                removed.append(build_dir)
    return removed


def _dirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir() and not p.is_symlink()]
    except FileNotFoundError:
        return []
