"""GitHub commit status (context `<env>::<source>`), linking to the notice's page."""

from __future__ import annotations

import requests

from totem.notify.levels import Level
from totem.notify.notice import Delivery, Notice, Skipped

STATES = {
    Level.FAILED: "failure",
    Level.WARN: "error",
    Level.SUCCESS: "success",
    Level.STARTED: "pending",
    Level.PENDING: "pending",
}


def send(notice: Notice, channel: dict, delivery: Delivery) -> None:
    git = notice.git or {}
    if not (notice.commit and git.get("owner") and git.get("repo")):
        raise Skipped("no commit to set a status on")
    api = (channel.get("url") or delivery.github_api_url).rstrip("/")
    headers = {"Accept": "application/vnd.github+json"}
    if delivery.github_token:
        headers["Authorization"] = f"Bearer {delivery.github_token}"
    body = {
        "state": STATES[notice.level],
        "target_url": notice.link,
        "description": notice.message[:140],
        "context": channel.get("context") or f"{notice.env}::{notice.source}",
    }
    url = f"{api}/repos/{git['owner']}/{git['repo']}/statuses/{notice.commit}"
    requests.post(url, json=body, headers=headers, timeout=delivery.timeout).raise_for_status()
