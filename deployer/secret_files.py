"""How decrypted values reach an instance: as files, never as environment variables.

For each encrypted variable NAME the instance gets the file /run/secrets/NAME (mode 0400) and the
variable NAME_FILE=/run/secrets/NAME; NAME itself only when the request's
`security.secrets-as-env` lists it (the app's opt-in: the value then shows in `docker inspect`).

docker: the files live in a directory on the Docker host's tmpfs (/dev/shm/totem-secrets/<dir>),
bind-mounted read-only at /run/secrets. Everything goes through the Docker API, so a remote engine
works the same: the files are written with the archive API into a helper container that binds the
same parent directory and is created, never started, then removed (the instance's own image serves
for it: nothing to pull). Removing the instance replaces its directory with an empty file the same
way (the archive API removes a directory a file entry replaces), so no secret stays behind."""

from __future__ import annotations

import io
import logging
import secrets
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from deployer.records import Record
from deployer.secret_keys import KeyRingError, ring_for
from deployer.secrets import SecretError, open_sealed

log = logging.getLogger("deployer.secret_files")
MOUNT = "/run/secrets"
HOST_ROOT = "/dev/shm/totem-secrets"  # tmpfs on the Docker host
HELPER_MOUNT = "/totem-secrets"
HELPER_LABEL = "totem.secrets-helper"


@dataclass
class Delivery:
    env: dict[str, str]  # what the instance's environment holds
    files: dict[str, str] = field(default_factory=dict)  # {NAME: value} under /run/secrets

    def mask(self, text: str) -> str:
        """`text` with every delivered value replaced by ***."""
        for value in sorted(self.files.values(), key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text


def deployment_env(ctx, record: Record) -> str:
    """The environment whose key ring decrypts the record: its meta-info env, else TOTEM_ENV."""
    return (record.get("request", {}).get("meta-info") or {}).get("env") or ctx.settings.env


def plan(ctx, record: Record, environment: dict[str, str]) -> Delivery:
    """Open what is still sealed (the deployment's ring), then split variables from files."""
    sealed: dict[str, str] = getattr(environment, "sealed", {})  # a plain dict (a test's) has none
    if sealed:
        try:
            ring = ring_for(ctx, deployment_env(ctx, record))
        except KeyRingError as exc:
            raise SecretError(f"environment {', '.join(sorted(sealed))}: {exc}") from None
        open_sealed(environment, ring)
    encrypted: set[str] = getattr(environment, "encrypted", set())
    exposed = set((record.get("request", {}).get("security") or {}).get("secrets-as-env") or [])
    env = {k: v for k, v in environment.items() if k not in encrypted or k in exposed}
    files = {k: environment[k] for k in sorted(encrypted)}
    env.update({f"{k}_FILE": f"{MOUNT}/{k}" for k in files})
    return Delivery(env, files)


# -- docker ----------------------------------------------------------------------
def _archive(entries: list[tuple[str, bytes | None, int]], uid: int, gid: int) -> bytes:
    """A tar of (name, content or None for a directory, mode)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, int(time.time())
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _owner(client, image: str) -> tuple[int, int]:
    """The image's numeric user (uid[:gid]) owns the files; root otherwise."""
    user = (client.images.get(image).attrs.get("Config") or {}).get("User") or ""
    uid, _, gid = user.partition(":")
    if uid.isdigit():
        return int(uid), int(gid) if gid.isdigit() else int(uid)
    return 0, 0


def _through_helper(client, image: str, name: str, archive: bytes) -> None:
    """Extract `archive` into HOST_ROOT on the host of `client`, through a never-started container."""
    helper = client.containers.create(
        image,
        name=f"{name[:40]}-secrets-{secrets.token_hex(4)}",
        entrypoint=["/totem-never-started"],
        command=[],
        network_mode="none",
        labels={HELPER_LABEL: name},
        volumes={HOST_ROOT: {"bind": HELPER_MOUNT, "mode": "rw"}},
    )
    try:
        if not helper.put_archive(HELPER_MOUNT, archive):
            raise SecretError(f"{name}: the Docker host refused the secret files")
    finally:
        helper.remove(force=True)


def write(client, image: str, node: str, files: dict[str, str]) -> str:
    """The host directory now holding `files` (for the instance's bind mount)."""
    directory = f"{node[:80]}-{secrets.token_hex(6)}"
    uid, gid = _owner(client, image)
    entries: list[tuple[str, bytes | None, int]] = [(directory, None, 0o500)]
    entries += [(f"{directory}/{name}", value.encode(), 0o400) for name, value in files.items()]
    _through_helper(client, image, node, _archive(entries, uid, gid))
    return f"{HOST_ROOT}/{directory}"


@contextmanager
def mounted(client, image: str, node: str, files: dict[str, str]) -> Iterator[dict | None]:
    """The `volumes` of a container that gets `files` at /run/secrets (None: no files); the files
    are removed again when creating the container fails."""
    if not files:
        yield None
        return
    source = write(client, image, node, files)
    try:
        yield {source: {"bind": MOUNT, "mode": "ro"}}
    except BaseException:
        wipe(client, image, source)
        raise


def source_of(attrs: dict) -> str | None:
    """The host directory a container's /run/secrets comes from, if Totem put one there."""
    for mount in attrs.get("Mounts") or []:
        source = mount.get("Source", "")
        if mount.get("Destination") == MOUNT and source.startswith(HOST_ROOT + "/"):
            return source
    return None


def wipe(client, image: str, source: str) -> None:
    """The directory's files gone: an empty file (a tar entry) takes the directory's place."""
    name = source[len(HOST_ROOT) + 1 :]
    if not name or "/" in name:
        return
    try:
        _through_helper(client, image, name, _archive([(name, b"", 0o400)], 0, 0))
    except Exception as exc:  # the image is gone, or the engine: the host's tmpfs still ends at reboot
        log.warning("could not remove the secret files of %s: %s", name, type(exc).__name__)
