"""A Debian 12 base image made with `debootstrap` and `docker import`, built once per machine.

The root file system tarball is cached under $TOTEM_HOME/cache/, so a removed image is
re-imported in seconds; only the first run on a machine downloads packages (Debian's archive).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import docker.errors

SUITE = "bookworm"
# Everything the stack's containers run: Totem (python3, git, haproxy) and its third-party services;
# python3-async-timeout because Debian's Python 3.11.2 needs it for the redis client.
PACKAGES = (
    "python3",
    "python3-venv",
    "python3-pip",
    "python3-setuptools",
    "python3-async-timeout",
    "ca-certificates",
    "git",
    "haproxy",
    "etcd-server",
    "redis-server",
    "docker-registry",
    "busybox-static",
)
RECIPE = hashlib.sha256(" ".join((SUITE, *PACKAGES)).encode()).hexdigest()[:12]
BASE_IMAGE = f"totem-local/debian12-base:{RECIPE}"


def cache_dir() -> Path:
    home = Path(os.environ.get("TOTEM_HOME", "~/.totem")).expanduser()
    path = home / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _has_image(client, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def _debootstrap(tarball: Path) -> None:
    """Build the root file system and pack it into `tarball` (written atomically)."""
    with tempfile.TemporaryDirectory(prefix="totem-rootfs-") as root:
        argv = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, root]
        mirror = os.environ.get("TOTEM_DEBIAN_MIRROR")
        if mirror:
            argv.append(mirror)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1200)
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            subprocess.run(["find", f"{root}/{leftover}", "-type", "f", "-delete"], check=False)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", root, "--numeric-owner", "-cf", str(partial), "."], check=True, timeout=600)
        partial.replace(tarball)


def ensure_base_image(client) -> str:
    """The base image's tag: present in Docker, re-imported from the cache, or built once."""
    if _has_image(client, BASE_IMAGE):
        return BASE_IMAGE
    tarball = cache_dir() / f"debian12-base-{RECIPE}.tar"
    if not tarball.exists():
        _debootstrap(tarball)
    repository, tag = BASE_IMAGE.split(":")
    client.api.import_image_from_file(str(tarball), repository=repository, tag=tag)
    return BASE_IMAGE
