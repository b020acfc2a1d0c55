"""The last applied wiring keys on disk, so a proxy restarted while etcd is away
comes back with the routing it had instead of an empty one."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from yoda_proxy.certs import write_private

log = logging.getLogger("yoda_proxy.cache")


def save(path: Path, keys: dict[str, str]) -> None:
    """Write atomically; private (certificate keys are part of the wiring)."""
    tmp = path.with_suffix(".tmp")
    write_private(tmp, json.dumps(keys, sort_keys=True))
    os.replace(tmp, path)


def load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable wiring cache %s (%s)", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
