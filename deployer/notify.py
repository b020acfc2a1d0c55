"""Deployment notices to the request's channels (`notifications.{webhook,slack}`), by level:
1 failed, 3 success, 4 started. Best effort: a failing channel is logged, never fatal."""
from __future__ import annotations

import json
import logging

import requests

from deployer.records import Record
from totem import signatures

log = logging.getLogger("deployer.notify")
LEVELS = {"failed": 1, "success": 3, "started": 4}


def notice(record: Record, status: str, message: str) -> dict:
    return {"status": status, "level": LEVELS[status], "message": message, "deployment-id": record["id"],
            "app": record["app"], "version": record["version"], "state": record["state"],
            "meta-info": record["request"].get("meta-info", {})}


def send(record: Record, status: str, message: str, hook_secret: str | None, timeout: float) -> list[str]:
    """Send to every enabled channel whose level admits this notice; returns the channels sent to."""
    channels = record["request"].get("notifications") or {}
    body = notice(record, status, message)
    sent = []
    for name in ("webhook", "slack"):
        channel = channels.get(name) or {}
        if not channel.get("enabled") or not channel.get("url") or channel.get("level", 3) < body["level"]:
            continue
        try:
            if name == "webhook":
                data = json.dumps(body, sort_keys=True).encode()
                headers = {"Content-Type": "application/json"}
                if hook_secret:
                    headers["X-Hook-Signature"] = signatures.sign(hook_secret, data)
                requests.post(channel["url"], data=data, headers=headers, timeout=timeout).raise_for_status()
            else:
                text = f"[{record['cluster']}] {record['app']} {record['version']}: {message}"
                requests.post(channel["url"], json={"text": text}, timeout=timeout).raise_for_status()
            sent.append(name)
        except requests.RequestException as exc:
            log.warning("notification to %s failed: %s", name, type(exc).__name__)
    return sent
