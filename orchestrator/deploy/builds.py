"""The image factory's builds API (documented at its /openapi.json): a commit's newest build, and
asking for one. The orchestrator's own small client: a service never imports totem_client
(docs/architecture.md §2). One try per call; the missing-hook check asks again on its next round."""

from __future__ import annotations

from typing import Any

import requests

from orchestrator.errors import OrchestratorError

TIMEOUT = 10
GIT = ("owner", "repo", "ref", "commit")


class BuildsUnavailable(OrchestratorError):
    """The image factory did not answer, or not with a 2xx JSON answer."""


def _call(method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise BuildsUnavailable(f"{method} {url}: {exc}") from None


def newest(base_url: str, git: dict[str, str]) -> dict[str, Any] | None:
    """The newest build of this (owner, repo, ref, commit), or None when there is none."""
    params: dict[str, Any] = {key: git[key] for key in GIT}
    found = _call("GET", f"{base_url.rstrip('/')}/builds", params={**params, "limit": 1}).get("builds")
    return found[0] if isinstance(found, list) and found else None


def request(base_url: str, token: str | None, git: dict[str, str]) -> dict[str, Any]:
    """Ask for a build of the commit (`POST /builds`, bearer token); the build record it answers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {key: git[key] for key in GIT}
    url = f"{base_url.rstrip('/')}/builds"
    build = _call("POST", url, json=body, headers=headers).get("build")
    if not isinstance(build, dict) or not {"id", "status"} <= build.keys():
        raise BuildsUnavailable(f"POST {url}: the answer holds no build")
    return build
