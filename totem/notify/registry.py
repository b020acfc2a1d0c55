"""The channels, one adapter each, and `notify`: send a notice to every channel whose level admits it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from totem.notify import github, slack, webhook
from totem.notify.levels import admits
from totem.notify.notice import Delivery, Notice, Skipped

log = logging.getLogger("totem.notify")

Sender = Callable[[Notice, dict, Delivery], None]  # (notice, channel config, delivery); raises on failure
CHANNELS: dict[str, Sender] = {"github": github.send, "slack": slack.send, "webhook": webhook.send}


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # enabled, but the notice lacks what the channel needs
    failed: dict[str, str] = field(default_factory=dict)  # channel → error type


def notify(channels_config: Mapping | None, notice: Notice, delivery: Delivery) -> Outcome:
    """Send to every enabled channel whose level admits the notice. Never raises: a notification is
    never worth failing a job or a deployment for; failures are logged and returned."""
    outcome = Outcome()
    for name, send in CHANNELS.items():
        channel = (channels_config or {}).get(name) or {}
        if not channel.get("enabled"):
            continue
        try:
            if not admits(channel.get("level"), notice.level):
                continue
            send(notice, channel, delivery)
        except Skipped:
            outcome.skipped.append(name)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.warning("notification via %s failed: %s", name, type(exc).__name__)
            outcome.failed[name] = type(exc).__name__
        else:
            outcome.sent.append(name)
    return outcome
