"""The deployer's side of notifications (totem.notify): a deployment's notice to the channels its
deploy request carries. Best effort: a failing channel is logged, never fatal."""

from __future__ import annotations

from deployer.records import Record
from totem.notify import Delivery, Level, Notice, notify


def notice(record: Record, level: Level, message: str, deployer_url: str | None = None) -> Notice:
    meta = record["request"].get("meta-info", {})
    link = f"{deployer_url.rstrip('/')}/deployments/{record['id']}" if deployer_url else None
    return Notice(
        level,
        message,
        f"Deployer/{record['cluster']}",
        link=link,
        env=meta.get("env"),
        cluster=record["cluster"],
        git=meta.get("git"),
        app=record["app"],
        version=record["version"],
        fields={
            "deployment-id": record["id"],
            "app": record["app"],
            "version": record["version"],
            "state": record["state"],
            "meta-info": meta,
        },
    )


def delivery(settings, options) -> Delivery:
    return Delivery(options.notify_timeout, settings.hook_secret, settings.github_api_url, settings.github_token)


def send(record: Record, level: Level, message: str, delivery: Delivery, deployer_url: str | None = None) -> list[str]:
    """Send to every enabled channel whose level admits this notice; returns the channels sent to."""
    channels = dict(record["request"].get("notifications") or {})
    if not delivery.github_token:
        channels.pop("github", None)  # the deployer posts commit statuses only with a token of its own
    return notify(channels, notice(record, level, message, deployer_url), delivery).sent
