"""Mask secrets before a config leaves the API: encrypted values and secret-looking keys."""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY = re.compile(r"secret|password|passwd|token|credential|private|api[-_]?key", re.I)
MASK = "***"


def mask(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        if node.get("encrypted") is True and "value" in node:
            return {**node, "value": MASK}
        return {k: mask(v, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [mask(item, key) for item in node]
    if key and SECRET_KEY.search(key) and node not in (None, "", {}, []):
        return MASK
    return node
