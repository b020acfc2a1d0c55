"""Send deploy and undeploy requests: bearer token, retries with backoff on connection errors, 429 and 5xx."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from totem.access.guard import TRIGGER
from totem.signed_post import retrying, window

TIMEOUT = 30


@dataclass
class DeployResult:
    ok: bool
    status: int | None
    body: Any
    attempts: int

    def summary(self) -> dict:
        return {"ok": self.ok, "status": self.status, "response": self.body, "attempts": self.attempts}


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:500]}


def send(
    method: str,
    url: str,
    token: str | None,
    payload: dict | None = None,
    idempotency_key: str | None = None,
    attempts: int = 6,
    backoff: float = 1.0,
    trigger: dict | None = None,
) -> DeployResult:
    """One request, retried (connection errors, 429, 5xx) for as long as `attempts` tries take with the
    shared policy of totem.signed_post (doubling `backoff`, capped; Retry-After honoured). `trigger`:
    who the request acts for (a hook's sender), which the deployer's audit record names as the actor."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if trigger:
        headers[TRIGGER] = json.dumps(trigger, separators=(",", ":"), ensure_ascii=True)
    tries = 0

    def once() -> requests.Response:
        nonlocal tries
        tries += 1
        return requests.request(method, url, json=payload, headers=headers, timeout=TIMEOUT)

    try:
        response = retrying(once, f"{method} {url}", window(attempts, backoff), backoff)
    except requests.RequestException as exc:
        return DeployResult(False, None, {"error": type(exc).__name__}, tries)
    return DeployResult(response.ok, response.status_code, _body(response), tries)


def deploy(
    url: str, token: str | None, request: dict, key: str, attempts: int, backoff: float, trigger: dict | None = None
) -> DeployResult:
    return send("POST", f"{url.rstrip('/')}/apps", token, request, key, attempts, backoff, trigger)


def undeploy(
    url: str, token: str | None, name: str, attempts: int, backoff: float, trigger: dict | None = None
) -> DeployResult:
    return send("DELETE", f"{url.rstrip('/')}/apps/{name}", token, None, None, attempts, backoff, trigger)
