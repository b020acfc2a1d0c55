"""Notifications: one adapter per channel, registered by name; each channel has a level.

A channel with level N receives notices of level <= N:
1 FAILED, 2 WARN, 3 SUCCESS, 4 STARTED, 5 PENDING.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from orchestrator import events
from orchestrator.states import Event

log = logging.getLogger("orchestrator.notify")

FAILED, WARN, SUCCESS, STARTED, PENDING = 1, 2, 3, 4, 5
LEVEL_NAMES = {FAILED: "failed", WARN: "warn", SUCCESS: "success", STARTED: "started", PENDING: "pending"}


@dataclass(frozen=True)
class Notice:
    level: int
    message: str
    job: dict
    job_url: str
    env: str

    @property
    def status(self) -> str:
        return LEVEL_NAMES[self.level]


Sender = Callable[[Notice, dict, object], None]  # (notice, channel config, runtime); raises on failure


def _github(notice, channel, rt):
    from orchestrator.notify.github import send

    send(notice, channel, rt)


def _slack(notice, channel, rt):
    from orchestrator.notify.slack import send

    send(notice, channel, rt)


def _webhook(notice, channel, rt):
    from orchestrator.notify.webhook import send

    send(notice, channel, rt)


CHANNELS: dict[str, Sender] = {"github": _github, "slack": _slack, "webhook": _webhook}


def notify(rt, job: dict, level: int, message: str) -> None:
    """Send to every enabled channel whose level admits this notice; failures become events."""
    config = (job.get("config") or {}).get("notifications") or {}
    notice = Notice(level, message, job, rt.job_url(job["id"]), rt.settings.env)
    for name, sender in CHANNELS.items():
        channel = config.get(name) or {}
        if not channel.get("enabled") or level > int(channel.get("level", SUCCESS)):
            continue
        try:
            sender(notice, channel, rt)
        except Exception as exc:  # noqa: BLE001 - a notification never fails the job
            log.warning("notification via %s failed: %s", name, type(exc).__name__)
            events.record(rt, events.make(Event.NOTIFICATION_FAILED, job, job["id"],
                                          {"channel": name, "error": type(exc).__name__}))
