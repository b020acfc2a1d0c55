"""A client for fleet's v1 HTTP API (`/fleet/v1/units`, `/fleet/v1/state`, `/fleet/v1/machines`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from deployer.errors import DeployerError


class FleetError(DeployerError, RuntimeError):
    """fleet answered a request with an error status."""


class FleetClient:
    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url.rstrip("/") + "/fleet/v1"
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        response = self.session.request(method, self.url + path, json=body, timeout=self.timeout)
        if response.status_code not in ok:
            raise FleetError(f"fleet {method} {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None

    def _pages(self, path: str, key: str) -> list[dict]:
        items: list[dict] = []
        token: str | None = None
        while True:
            page = self._call("GET", path + (f"?nextPageToken={quote(token)}" if token else ""))
            items += page.get(key) or []
            token = page.get("nextPageToken")
            if not token:
                return items

    def units(self) -> list[dict]:
        return self._pages("/units", "units")

    def states(self) -> list[dict]:
        return self._pages("/state", "states")

    def machines(self) -> list[dict]:
        return self._pages("/machines", "machines")

    def unit(self, name: str) -> dict | None:
        response = self.session.get(f"{self.url}/units/{quote(name)}", timeout=self.timeout)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise FleetError(f"fleet GET /units/{name}: HTTP {response.status_code}")
        return response.json()

    def submit(self, name: str, options: list[dict], desired: str) -> None:
        """Create a unit with its options (fleet answers 201), or only change its desired state (204)."""
        self._call(
            "PUT", f"/units/{quote(name)}", {"name": name, "desiredState": desired, "options": options}, ok=(201, 204)
        )

    def set_state(self, name: str, desired: str) -> None:
        self._call("PUT", f"/units/{quote(name)}", {"desiredState": desired}, ok=(204,))

    def destroy(self, name: str) -> None:
        self._call("DELETE", f"/units/{quote(name)}", ok=(204, 404))
