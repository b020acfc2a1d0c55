"""Send deploy and undeploy requests: bearer token, retries with backoff on connection errors and 5xx."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger("orchestrator.deploy")
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
) -> DeployResult:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    for attempt in range(1, attempts + 1):
        try:
            response = requests.request(method, url, json=payload, headers=headers, timeout=TIMEOUT)
            if response.status_code < 500:
                return DeployResult(response.ok, response.status_code, _body(response), attempt)
            result = DeployResult(False, response.status_code, _body(response), attempt)
            log.warning("%s %s answered %s (attempt %d/%d)", method, url, response.status_code, attempt, attempts)
        except requests.RequestException as exc:
            result = DeployResult(False, None, {"error": type(exc).__name__}, attempt)
            log.warning("%s %s failed: %s (attempt %d/%d)", method, url, type(exc).__name__, attempt, attempts)
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return result


def deploy(url: str, token: str | None, request: dict, key: str, attempts: int, backoff: float) -> DeployResult:
    return send("POST", f"{url.rstrip('/')}/apps", token, request, key, attempts, backoff)


def undeploy(url: str, token: str | None, name: str, attempts: int, backoff: float) -> DeployResult:
    return send("DELETE", f"{url.rstrip('/')}/apps/{name}", token, None, None, attempts, backoff)
