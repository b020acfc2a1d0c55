"""How deployments look in API answers: encrypted environment values never leave the service."""

from __future__ import annotations

import copy

from deployer.records import Record
from deployer.secrets import masked

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
