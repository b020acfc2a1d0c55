"""Slack incoming webhook: one attachment coloured by level, linking to the notice's page."""

from __future__ import annotations

import requests

from totem.notify.levels import Level
from totem.notify.notice import Delivery, Notice

COLORS = {
    Level.FAILED: "danger",
    Level.WARN: "warning",
    Level.SUCCESS: "good",
    Level.STARTED: "#439FE0",
    Level.PENDING: "#cccccc",
}


def body(notice: Notice) -> dict:
    title = f"{notice.subject} {notice.status}"
    shown = {"commit": (notice.commit or "")[:12], "env": notice.env, "cluster": notice.cluster}
    return {
        "attachments": [
            {
                "color": COLORS[notice.level],
                "title": title,
                "title_link": notice.link,
                "text": notice.message,
                "fallback": f"{title}: {notice.message}",
                "fields": [{"title": name, "value": value, "short": True} for name, value in shown.items() if value],
                **({"actions": [_button(label, url) for label, url in notice.actions]} if notice.actions else {}),
            }
        ]
    }


def _button(label: str, url: str) -> dict:
    """A link button (Slack opens the url in the browser: a GET, which decides nothing by itself)."""
    return {"type": "button", "text": label, "url": url, "style": "danger" if label == "Reject" else "primary"}


def send(notice: Notice, channel: dict, delivery: Delivery) -> None:
    message = body(notice)
    if channel.get("channel"):
        message["channel"] = channel["channel"]
    requests.post(channel["url"], json=message, timeout=delivery.timeout).raise_for_status()
