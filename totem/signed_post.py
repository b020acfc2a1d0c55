"""Signed JSON over HTTP, the one way every Totem component sends it, and the one retry policy.

The payload is serialised once, with sorted keys, and those exact bytes are signed and sent (again on
every retry), so the receiver's `totem.signatures.verify` of the raw body always matches.

Retries (`retrying`): connection errors, 429 and 5xx are tried again for a window of seconds, pausing
as the answer's `Retry-After` says, else doubling from `backoff` up to MAX_PAUSE, so a sender outlasts
a short outage (a Redis or service restart) and notices its end within seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import requests

from totem import signatures
from totem.waiting import Deadline, pause

log = logging.getLogger("totem.signed_post")

SIGNATURE_HEADER = "X-Hook-Signature"  # sha256=<hex HMAC of the body>, keyed with TOTEM_HOOK_SECRET
MAX_PAUSE = 5.0  # seconds: the backoff's cap
OUTAGE = 120.0  # seconds a hook sender keeps trying: longer than a short outage of the receiver


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


def _retry_after(response: requests.Response) -> float | None:
    """The answer's `Retry-After` in seconds (the HTTP-date form is not used by Totem: ignored)."""
    raw = response.headers.get("Retry-After", "")
    return float(raw) if raw.isascii() and raw.isdigit() else None


def _backoff(backoff: float, retries: int) -> float:
    return min(backoff * 2 ** min(retries, 16), MAX_PAUSE)


def window(attempts: int, backoff: float) -> float:
    """The retry window that `attempts` tries span with this backoff (for senders configured by a count)."""
    return sum(_backoff(backoff, n) for n in range(attempts - 1))


def retrying(
    send: Callable[[], requests.Response], what: str, retry_for: float, backoff: float = 0.5
) -> requests.Response:
    """Call `send` until it answers a final status (not 429 or 5xx) or `retry_for` seconds have passed,
    pausing as `Retry-After` says, else `backoff` doubling up to MAX_PAUSE (never past the window).

    Returns the last response; raises the last connection error.
    """
    deadline = Deadline(retry_for)
    attempt = 0
    while True:
        attempt += 1
        try:
            response = send()
        except requests.RequestException as exc:
            log.warning("%s failed: %s (attempt %d)", what, exc, attempt)
            if deadline.expired:
                raise
            wait_s = None
        else:
            if not _retryable(response.status_code) or deadline.expired:
                return response
            log.warning("%s answered %s (attempt %d)", what, response.status_code, attempt)
            wait_s = _retry_after(response)
        if wait_s is None:
            wait_s = _backoff(backoff, attempt - 1)
        pause(min(wait_s, deadline.remaining()))


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    retry_for: float = 0.0,
    backoff: float = 0.5,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST `body`, retrying connection errors, 429 and 5xx for `retry_for` seconds (see `retrying`)."""
    http = session or requests
    return retrying(
        lambda: http.post(url, data=body, headers=headers, timeout=timeout), f"POST {url}", retry_for, backoff
    )


def post_json(
    url: str,
    payload: Any,
    secret: str | None = None,
    *,
    retry_for: float = 0.0,
    backoff: float = 0.5,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST `payload` as JSON, signed with `X-Hook-Signature` when a secret is given; see `post`."""
    body = encode(payload)
    return post(
        url, body, signed_headers(body, secret), retry_for=retry_for, backoff=backoff, timeout=timeout, session=session
    )


def send_hook(
    url: str,
    hook: dict[str, Any],
    secret: str | None,
    retry_for: float = OUTAGE,
    backoff: float = 0.5,
    timeout: float = 10.0,
    session: requests.Session | None = None,
) -> requests.Response:
    """Send a generic hook (totem.contracts.hook): signed, and retried while the receiver is down."""
    return post_json(url, hook, secret, retry_for=retry_for, backoff=backoff, timeout=timeout, session=session)
