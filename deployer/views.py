"""How deployments look in API answers: encrypted environment values never leave the service."""

from __future__ import annotations

import copy

from deployer.records import Record
from deployer.secrets import masked
from deployer.states import Phase

SUMMARY = ("id", "app", "version", "state", "mode", "scheduler", "upstream", "created", "updated", "error")


def summary(record: Record) -> dict:
    return {key: record.get(key) for key in SUMMARY}


def detail(record: Record) -> dict:
    shown = copy.deepcopy(record)
    request = shown.get("request") or {}
    request["environment"] = masked(request.get("environment") or {})
    shown.pop("failing", None)
    shown["timeline"] = shown.pop("events", [])
    return shown


def rollout(records: list[Record]) -> dict | None:
    """The newest deployment's progressive delivery (canary steps or preview), as the dashboard shows it."""
    record = records[-1] if records else None
    shown = (record or {}).get("rollout")
    if record is None or shown is None:
        return None
    spec = record["spec"]
    steps = [
        {"weight": s["weight"], "pause": "manual" if s["pause"] is None else f"{s['pause']:g}s"}
        for s in (spec.get("rollout") or {}).get("steps", [])
    ]
    return {
        "deployment": record["id"],
        "version": record["version"],
        "strategy": "canary" if spec.get("rollout") else "blue-green",
        "phase": shown.get("phase", Phase.STARTING),
        "step": shown.get("step"),
        "steps": steps,
        "weight": shown.get("weight", 0),
        "analysis": shown.get("analysis", []),
        "requests": shown.get("requests"),
        "samples": shown.get("samples", []),
        "preview": shown.get("preview"),
        "reason": shown.get("reason"),
    }
