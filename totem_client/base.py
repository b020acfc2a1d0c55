"""One JSON-over-HTTP client per service: base URL, optional bearer token, errors as ServiceError."""

from __future__ import annotations

from typing import Any, Self

import requests

from totem.errors import TotemError

TIMEOUT = 10.0


class ServiceError(TotemError):
    """A service answered with an error (or not at all); `status` is None when unreachable."""

    def __init__(self, service: str, status: int | None, code: str, message: str):
        super().__init__(f"{service}: {message}")
        self.service, self.status, self.code, self.message = service, status, code, message


class ServiceClient:
    service = "service"

    def __init__(
        self, base_url: str, token: str | None = None, timeout: float = TIMEOUT, session: requests.Session | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()

    def with_token(self, token: str | None) -> Self:
        """The same client acting with another token (e.g. the operator's, from the dashboard session)."""
        return type(self)(self.base_url, token, self.timeout, self.session)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        auth: bool = False,
        raw: bool = False,
        headers: dict | None = None,
    ):
        sent = {"Accept": "application/json", **(headers or {})}
        if auth and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=clean,
                json=json,
                headers=sent,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ServiceError(
                self.service, None, "unreachable", f"cannot reach {self.base_url} ({type(exc).__name__})"
            ) from None
        if response.status_code >= 400:
            raise error_from(self.service, response)
        if raw:
            return response
        return response.json() if response.content else {}

    def get(self, path: str, **params: Any):
        return self.request("GET", path, params=params)


def error_from(service: str, response: requests.Response) -> ServiceError:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    message = error.get("message") or f"HTTP {response.status_code}"
    return ServiceError(service, response.status_code, error.get("code") or "http_error", str(message))
