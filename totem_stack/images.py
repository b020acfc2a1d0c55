"""Totem's images built on this machine, nothing pulled (the compose test and Totem on the rig's
Swarm use them):

- a Debian 12 base made with `debootstrap` and `docker import`, built once per machine: the root
  file system tarball is cached under $TOTEM_HOME/cache/, so a removed image is re-imported in
  seconds; only the first run on a machine downloads packages (Debian's archive);
- `stack-base`: that base plus the Python packages Totem needs, copied from this venv (same Python
  3.11), so building Totem's Dockerfile on it fetches nothing. It also serves as ETCD_IMAGE,
  REDIS_IMAGE and REGISTRY_IMAGE (Debian's etcd-server, redis-server, docker-registry);
- Totem's image: the repository's own Dockerfile with BASE_IMAGE = stack-base.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import docker.errors
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
TOTEM_IMAGE = "totem-local/totem:test"

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

STACK_DOCKERFILE = """ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY site-packages/ /usr/local/lib/python3.11/dist-packages/
COPY bin/ /usr/local/bin/
COPY registry.yml /etc/docker/registry/config.yml
COPY pip.conf /etc/pip.conf
"""
# The dependencies are all there already (copied from a venv that may run a newer 3.11 than Debian's,
# so markers can differ): pip installs Totem itself and resolves nothing, offline.
PIP_CONF = """[global]
no-index = true
no-deps = true
"""
# Debian's packaged config asks for htpasswd auth; the stack's registry is open on loopback.
REGISTRY_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: 127.0.0.1:5000
"""
SCRIPT = """#!/usr/bin/env python3
import sys
from {module} import {attr}
sys.exit({call}())
"""


# -- the debootstrap base ----------------------------------------------------------------------
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


# -- stack-base: the base plus this venv's packages --------------------------------------------
def _closure(root: str) -> list[metadata.Distribution]:
    """`root` and every distribution it requires (extras followed), as installed in this venv."""
    seen: dict[str, metadata.Distribution] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        dist = metadata.distribution(name)
        key = dist.metadata["Name"].lower()
        if key in seen and not extras:
            continue
        seen[key] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            wanted = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in wanted):
                todo.append((req.name, frozenset(req.extras)))
    seen.pop(root, None)
    return sorted(seen.values(), key=lambda d: d.metadata["Name"].lower())


def _copy_packages(dists: list[metadata.Distribution], into: Path) -> None:
    for dist in dists:
        for file in dist.files or []:
            source = Path(str(dist.locate_file(file))).resolve()
            if ".." in file.parts or not source.is_file() or file.suffix == ".pyc":
                continue
            target = into / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _write_scripts(dists: list[metadata.Distribution], into: Path) -> None:
    """The console scripts (gunicorn, celery, ...) their installers would have written; they run the
    first python3 on PATH, so in Totem's image the venv that also holds Totem."""
    into.mkdir(parents=True, exist_ok=True)
    for dist in dists:
        for entry in dist.entry_points.select(group="console_scripts"):
            attr = entry.attr.split(".")[0]
            script = into / entry.name
            script.write_text(SCRIPT.format(module=entry.module, attr=attr, call=entry.attr))
            script.chmod(0o755)


def stack_base_image(client) -> str:
    """Built once per set of dependency versions and recipe (the tag holds their hash)."""
    base = ensure_base_image(client)
    dists = _closure("totem")
    versions = "\n".join(f"{d.metadata['Name']}=={d.version}" for d in dists)
    recipe = "\n".join((base, versions, STACK_DOCKERFILE, REGISTRY_CONFIG, PIP_CONF, SCRIPT))
    tag = f"totem-local/stack-base:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    if client.images.list(name=tag):
        return tag
    for old in client.images.list(name="totem-local/stack-base"):  # superseded recipes
        for old_tag in old.tags:
            client.images.remove(old_tag)
    with tempfile.TemporaryDirectory(prefix="totem-stack-base-") as context:
        _copy_packages(dists, Path(context) / "site-packages")
        _write_scripts(dists, Path(context) / "bin")
        (Path(context) / "Dockerfile").write_text(STACK_DOCKERFILE)
        (Path(context) / "registry.yml").write_text(REGISTRY_CONFIG)
        (Path(context) / "pip.conf").write_text(PIP_CONF)
        client.images.build(path=context, tag=tag, buildargs={"BASE_IMAGE": base}, rm=True, network_mode="none")
    return tag


# -- Totem's image -----------------------------------------------------------------------------
def totem_image(client, tag: str = TOTEM_IMAGE) -> tuple[str, str]:
    """(Totem's image, its base) — the repository's Dockerfile; Docker's cache makes rebuilds cheap."""
    base = stack_base_image(client)
    client.images.build(path=str(REPO), tag=tag, buildargs={"BASE_IMAGE": base}, rm=True, network_mode="none")
    return tag, base


def push_by_content(client, local: str, repository: str) -> str:
    """`local` pushed as `repository:<its image id>` (a tag that changes with the content, so every
    node pulls what was built); earlier tags of `repository` on this engine are dropped."""
    image = client.images.get(local)
    tag = image.id.split(":")[-1][:12]
    for old in client.images.list(name=repository):
        for old_tag in old.tags:
            if old_tag != f"{repository}:{tag}":
                client.images.remove(old_tag)
    image.tag(repository, tag)
    for line in client.images.push(repository, tag, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"push {repository}:{tag}: {line['error']}")
    return f"{repository}:{tag}"
