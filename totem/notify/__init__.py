"""Notifications, shared by the orchestrator and the deployer: channels (github, slack, webhook) by name,
each with a level by name; `notify(channels_config, notice, delivery)` never raises."""

from totem.notify.levels import DEFAULT_LEVEL, LEVEL_SCHEMA, Level, admits, parse_level
from totem.notify.notice import Delivery, Notice, Skipped
from totem.notify.registry import CHANNELS, Outcome, notify
from totem.notify.schema import CHANNEL_SCHEMA, NOTIFICATIONS_SCHEMA

__all__ = [
    "CHANNELS",
    "CHANNEL_SCHEMA",
    "DEFAULT_LEVEL",
    "LEVEL_SCHEMA",
    "NOTIFICATIONS_SCHEMA",
    "Delivery",
    "Level",
    "Notice",
    "Outcome",
    "Skipped",
    "admits",
    "notify",
    "parse_level",
]
