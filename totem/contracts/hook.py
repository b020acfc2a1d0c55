"""Totem's generic hook (DESIGN.md §4): its schema, and signing + sending it with retries."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import requests

from totem import signatures

log = logging.getLogger("totem.contracts.hook")

GENERIC_HOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["git", "type", "name", "status"],
    "properties": {
        "git": {
            "type": "object",
            "required": ["owner", "repo", "ref", "commit"],
            "properties": {k: {"type": "string", "minLength": 1} for k in ("owner", "repo", "ref", "commit")},
        },
        "type": {"enum": ["builder", "ci", "scm-push", "scm-create"]},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "status": {"enum": ["success", "failed", "pending"]},
        "result": {"type": "object"},
        "force-deploy": {"type": "boolean"},
    },
}


def send_hook(url: str, hook: dict[str, Any], secret: str | None, attempts: int = 5,
              backoff: float = 0.5, timeout: float = 10.0, session: requests.Session | None = None) -> requests.Response:
    """POST the hook signed with `X-Hook-Signature`; retry connection errors, 429 and 5xx with backoff.

    Returns the last response (a 4xx other than 429 is final); raises the last connection error.
    """
    body = json.dumps(hook, sort_keys=True).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Hook-Signature"] = signatures.sign(secret, body)
    http = session or requests
    for attempt in range(1, attempts + 1):
        try:
            response = http.post(url, data=body, headers=headers, timeout=timeout)
            if response.status_code < 500 and response.status_code != 429:
                return response
            log.warning("hook to %s answered %s (attempt %d/%d)", url, response.status_code, attempt, attempts)
            if attempt == attempts:
                return response
        except requests.RequestException as exc:
            log.warning("hook to %s failed: %s (attempt %d/%d)", url, exc, attempt, attempts)
            if attempt == attempts:
                raise
        time.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
