"""Follow a deployment until it settles, printing its phases as they complete."""
from __future__ import annotations

import sys
import time

from totem_client import DeployerClient, ServiceError
from totem_dashboard.times import duration, epoch

SETTLED = ("PROMOTED", "FAILED", "DECOMMISSIONED")


def follow(deployer: DeployerClient, deployment_id: str, timeout: float, quiet: bool = False,
           interval: float = 0.5) -> dict:
    """The deployment once settled (or as last seen when `timeout` passes)."""
    deadline = time.monotonic() + timeout
    shown = 0
    record: dict = {}
    while True:
        try:
            record = deployer.deployment(deployment_id)
        except ServiceError as exc:
            if exc.status is not None:
                raise
        events = record.get("timeline") or []
        start = epoch(events[0]["date"]) if events else None
        for event in events[shown:]:
            if not quiet:
                at = epoch(event.get("date"))
                offset = f"+{duration(at - start)}" if at is not None and start is not None else ""
                mark = "✗" if event["type"] == "DEPLOYMENT_FAILED" else "✓"
                reason = (event.get("details") or {}).get("reason")
                print(f"  {mark} {event['type']:<22} {offset}" + (f"  {reason}" if reason else ""), flush=True)
        shown = len(events)
        if record.get("state") in SETTLED or time.monotonic() >= deadline:
            return record
        time.sleep(interval)


def say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
