"""Images for the compose test, built locally (nothing is pulled):

- `stack-base`: the debootstrap Debian 12 base plus the Python packages Totem needs, copied from this
  venv (same Python 3.11), so building Totem's Dockerfile on it fetches nothing. It also serves as
  ETCD_IMAGE, REDIS_IMAGE and REGISTRY_IMAGE (Debian's etcd-server, redis-server, docker-registry).
- `totem`: the repository's own Dockerfile with BASE_IMAGE = stack-base.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from tests.e2e.base_image import ensure_base_image

REPO = Path(__file__).resolve().parents[2]
TOTEM_IMAGE = "totem-local/totem:test"
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


def _closure(root: str) -> list[metadata.Distribution]:
    """`root` and every distribution it requires (extras followed), as installed in this venv."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [(root, frozenset())]
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
            source = Path(dist.locate_file(file)).resolve()
            if ".." in file.parts or not source.is_file() or file.suffix == ".pyc":
                continue
            target = into / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


SCRIPT = """#!/usr/bin/env python3
import sys
from {module} import {attr}
sys.exit({call}())
"""


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


def totem_image(client) -> tuple[str, str]:
    """(Totem's image, its base) — the repository's Dockerfile; Docker's cache makes rebuilds cheap."""
    base = stack_base_image(client)
    client.images.build(path=str(REPO), tag=TOTEM_IMAGE, buildargs={"BASE_IMAGE": base}, rm=True, network_mode="none")
    return TOTEM_IMAGE, base
