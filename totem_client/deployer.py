"""The deployer's API: apps, versions, deployments, rollback, undeploy, and the operator's controls of a
rollout (promote, abort) and of an app's traffic (pause, resume, maintenance), and an environment's
secret keys (encrypt, rotate, re-encrypt, list, retire)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from urllib.parse import quote

from totem_client import app_logs
from totem_client.base import ServiceClient


def _seg(value: str) -> str:
    return quote(value, safe="")


def _number_or_text(value: str | float) -> str | float:
    """A bare number of seconds as a number ("45" → 45.0), a duration with its unit as it is."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value.strip()
        return number if math.isfinite(number) else value.strip()
    return value


class DeployerClient(ServiceClient):
    service = "deployer"

    def apps(self) -> list[dict]:
        return self.get("/apps")["apps"]

    def app(self, name: str) -> dict:
        return self.get(f"/apps/{_seg(name)}")

    def versions(self, name: str) -> dict:
        return self.get(f"/apps/{_seg(name)}/versions")["versions"]

    def logs(self, name: str, **query) -> Iterator[dict]:
        """The app's instance log entries in time order (totem_client/app_logs.py: since, version,
        instance, tail, follow)."""
        return app_logs.entries(self, name, **query)

    def delivery(self, app: str | None = None, window: str | None = None) -> dict:
        """The delivery (DORA) figures per app and overall (GET /metrics/delivery)."""
        return self.get("/metrics/delivery", app=app, window=window)

    def deployment(self, deployment_id: str) -> dict:
        return self.get(f"/deployments/{_seg(deployment_id)}")

    def deploy(self, request: dict, idempotency_key: str | None = None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/apps", json=request, auth=True, headers=headers)["deployment"]

    def rollback(self, name: str, version: str | None = None) -> dict:
        body = {"version": version} if version else None
        return self.request("POST", f"/apps/{_seg(name)}/rollback", json=body, auth=True)["deployment"]

    def undeploy(self, name: str, version: str | None = None) -> dict:
        path = f"/apps/{_seg(name)}" + (f"/versions/{_seg(version)}" if version else "")
        return self.request("DELETE", path, auth=True)

    def promote(self, name: str, full: bool = False) -> dict:
        """End the rollout's current wait (a manual pause, a preview gate); `full`: switch to 100 % now."""
        return self.request("POST", f"/apps/{_seg(name)}/promote", json={"full": full}, auth=True)["deployment"]

    def abort(self, name: str, reason: str | None = None) -> dict:
        body = {"reason": reason} if reason else {}
        return self.request("POST", f"/apps/{_seg(name)}/abort", json=body, auth=True)["deployment"]

    def pause(self, name: str, max: str | float | None = None) -> dict:
        """Hold new requests at the proxy for at most `max` ("30s", "2m" or seconds; the deployer's default)."""
        body = {"max": _number_or_text(max)} if max is not None else {}
        return self.request("POST", f"/apps/{_seg(name)}/pause", json=body, auth=True)

    def resume(self, name: str) -> dict:
        return self.request("POST", f"/apps/{_seg(name)}/resume", json={}, auth=True)

    def maintenance(self, name: str, enabled: bool, retry_after: int | None = None) -> dict:
        body: dict = {"enabled": enabled}
        if retry_after is not None:
            body["retry-after"] = retry_after
        return self.request("POST", f"/apps/{_seg(name)}/maintenance", json=body, auth=True)

    # -- an environment's key ring and encrypted values (deployer/api_secrets.py) -------------------
    def encrypt_secret(self, env: str, value: str) -> dict:
        """{"value": token, "encrypted": true, "key": id}: `value` encrypted with the env's primary key."""
        return self.request("POST", f"/secrets/{_seg(env)}/encrypt", json={"value": value}, auth=True)

    def rotate_secret_key(self, env: str) -> dict:
        return self.request("POST", f"/secrets/{_seg(env)}/rotate", json={}, auth=True)

    def reencrypt_secrets(self, env: str, values: list[str]) -> list[str]:
        """The tokens encrypted again with the primary key, in order (never decrypted here)."""
        return self.request("POST", f"/secrets/{_seg(env)}/reencrypt", json={"values": values}, auth=True)["values"]

    def secret_keys(self, env: str) -> list[dict]:
        return self.request("GET", f"/secrets/{_seg(env)}/keys", auth=True)["keys"]

    def retire_secret_key(self, env: str, key_id: str) -> dict:
        return self.request("DELETE", f"/secrets/{_seg(env)}/keys/{_seg(key_id)}", auth=True)
