"""GitHub commit status (context `<env>::Orchestrator`), linking to the job."""
from __future__ import annotations

import requests

STATES = {1: "failure", 2: "error", 3: "success", 4: "pending", 5: "pending"}


def send(notice, channel: dict, rt) -> None:
    job = notice.job
    api = (channel.get("url") or rt.options.github_api_url).rstrip("/")
    headers = {"Accept": "application/vnd.github+json"}
    if rt.options.github_token:
        headers["Authorization"] = f"Bearer {rt.options.github_token}"
    body = {"state": STATES[notice.level], "target_url": notice.job_url, "description": notice.message[:140],
            "context": channel.get("context") or f"{notice.env}::Orchestrator"}
    url = f"{api}/repos/{job['owner']}/{job['repo']}/statuses/{job['commit']}"
    requests.post(url, json=body, headers=headers, timeout=rt.options.notify_timeout).raise_for_status()
