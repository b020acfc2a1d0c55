"""Debian packages the stack and Totem need: checked by binary, installed with apt-get as root."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

# Package -> a binary it installs. Totem needs these beside the stack's own services
# (debootstrap, docker-compose and systemd's unit verifier for the image, compose and fleet tests).
TOOLS = {
    "git": "git",
    "haproxy": "haproxy",
    "busybox-static": "busybox",
    "iproute2": "ip",
    "curl": "curl",
    "debootstrap": "debootstrap",
    "docker-compose": "docker-compose",
    "systemd": "systemd-analyze",
}
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
# Debian's switch that keeps packages from starting their system daemons on install.
POLICY_RC = Path("/usr/sbin/policy-rc.d")


def find_binary(name: str) -> str | None:
    """`name` on PATH, also in the sbin directories a non-root PATH often lacks."""
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN])
    return shutil.which(name, path=path)


def missing(required: dict[str, str]) -> list[str]:
    return sorted(package for package, binary in required.items() if not find_binary(binary))


def install_commands(packages: list[str]) -> list[list[str]]:
    return [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]]


def ensure(required: dict[str, str], out: TextIO, as_root: bool) -> bool:
    """Install what is missing (as root) or say what to run; True when all is present."""
    packages = missing(required)
    if not packages:
        return True
    commands = install_commands(packages)
    if not as_root:
        print(f"missing Debian packages: {' '.join(packages)}. As root, run:", file=out)
        print("  " + " && ".join(shlex.join(command) for command in commands), file=out)
        return False
    print(f"installing Debian packages: {' '.join(packages)}", file=out, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with _daemons_not_started():
        for command in commands:
            if subprocess.run(command, env=env, stdin=subprocess.DEVNULL).returncode != 0:
                print(f"failed: {shlex.join(command)}", file=out)
                return False
    still = missing(required)
    if still:
        print(f"still missing after install: {' '.join(still)}", file=out)
    return not still


@contextlib.contextmanager
def _daemons_not_started() -> Iterator[None]:
    """The stack starts its own daemons: keep the packages' system ones from starting."""
    if POLICY_RC.exists():
        yield
        return
    POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
    POLICY_RC.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC.unlink(missing_ok=True)
