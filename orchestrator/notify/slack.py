"""Slack incoming webhook: one attachment coloured by level, linking to the job."""
from __future__ import annotations

import requests

COLORS = {1: "danger", 2: "warning", 3: "good", 4: "#439FE0", 5: "#cccccc"}


def send(notice, channel: dict, rt) -> None:
    job = notice.job
    app = f"{job['owner']}/{job['repo']}@{job['ref']}"
    body = {"attachments": [{
        "color": COLORS[notice.level], "title": f"{app} {notice.status}", "title_link": notice.job_url,
        "text": notice.message, "fallback": f"{app} {notice.status}: {notice.message}",
        "fields": [{"title": "commit", "value": job["commit"][:12], "short": True},
                   {"title": "env", "value": notice.env, "short": True}],
    }]}
    if channel.get("channel"):
        body["channel"] = channel["channel"]
    requests.post(channel["url"], json=body, timeout=rt.options.notify_timeout).raise_for_status()
