"""Signed JSON over HTTP, the one way every Totem component sends it.

The payload is serialised once, with sorted keys, and those exact bytes are signed and sent (again on
every retry), so the receiver's `totem.signatures.verify` of the raw body always matches.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import requests

from totem import signatures
from totem.waiting import pause

log = logging.getLogger("totem.signed_post")

SIGNATURE_HEADER = "X-Hook-Signature"  # sha256=<hex HMAC of the body>, keyed with TOTEM_HOOK_SECRET


def encode(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True).encode()


def signed_headers(body: bytes, secret: str | None, header: str = SIGNATURE_HEADER) -> dict[str, str]:
    """JSON content type, plus the signature of `body` when there is a secret."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[header] = signatures.sign(secret, body)
    return headers


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    attempts: int = 1,
    backoff: float = 0.5,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST `body`, retrying connection errors, 429 and 5xx up to `attempts` times (backoff doubling).

    Returns the last response (any other status is final at once); raises the last connection error.
    """
    http = session or requests
    for attempt in range(1, attempts + 1):
        try:
            response = http.post(url, data=body, headers=headers, timeout=timeout)
            if not _retryable(response.status_code):
                return response
            log.warning("POST %s answered %s (attempt %d/%d)", url, response.status_code, attempt, attempts)
            if attempt == attempts:
                return response
        except requests.RequestException as exc:
            log.warning("POST %s failed: %s (attempt %d/%d)", url, exc, attempt, attempts)
            if attempt == attempts:
                raise
        pause(backoff * 2 ** (attempt - 1))
    raise ValueError(f"attempts must be at least 1 (got {attempts})")


def post_json(
    url: str,
    payload: Any,
    secret: str | None = None,
    *,
    attempts: int = 1,
    backoff: float = 0.5,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST `payload` as JSON, signed with `X-Hook-Signature` when a secret is given; see `post`."""
    body = encode(payload)
    return post(
        url, body, signed_headers(body, secret), attempts=attempts, backoff=backoff, timeout=timeout, session=session
    )


def send_hook(
    url: str,
    hook: dict[str, Any],
    secret: str | None,
    attempts: int = 5,
    backoff: float = 0.5,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> requests.Response:
    """Send a generic hook (totem.contracts.hook): signed, and retried since the receiver may be restarting."""
    return post_json(url, hook, secret, attempts=attempts, backoff=backoff, timeout=timeout, session=session)
