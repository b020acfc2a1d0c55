"""The demo's hook secret and API token: generated once, kept in $TOTEM_HOME/demo/secrets.env (0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

NAMES = ("TOTEM_HOOK_SECRET", "TOTEM_API_TOKEN")


def _read(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name in NAMES and value:
            found[name] = value
    return found


def load_or_create(path: Path) -> dict[str, str]:
    """The secrets in `path`, creating any that are missing. Never printed or logged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    found = _read(path) if path.exists() else {}
    if all(name in found for name in NAMES):
        return found
    for name in NAMES:
        found.setdefault(name, secrets.token_urlsafe(32))
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{name}={found[name]}\n" for name in NAMES))
    partial.replace(path)
    return found
