"""Follow a deployment until it settles, printing its phases as they complete."""

from __future__ import annotations

import contextlib
import sys

from deployer.states import TERMINAL as SETTLED
from totem.waiting import WaitTimeout, wait
from totem_cli.ops.output import FAILED, emit_json
from totem_client import DeployerClient, ServiceError
from totem_dashboard.times import duration, epoch


def follow(
    deployer: DeployerClient, deployment_id: str, timeout: float, quiet: bool = False, interval: float = 0.5
) -> dict:
    """The deployment once settled (or as last seen when `timeout` passes)."""
    shown = 0
    record: dict = {}

    def settled() -> bool:
        nonlocal shown, record
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
        return record.get("state") in SETTLED

    with contextlib.suppress(WaitTimeout):
        wait(settled, timeout, interval, what=f"deployment {deployment_id} settled")
    return record


def settle(deployer: DeployerClient, accepted: dict, args, wanted: str) -> int:
    """Follow an accepted deployment unless `--no-wait`, report it (`--json` too); exit 0 when it
    ended `wanted` (PROMOTED for a rollback, FAILED for an abort), else 1."""
    quiet = args.json
    if args.no_wait:
        if quiet:
            emit_json({"deployment": accepted})
        return 0
    record = follow(deployer, accepted["id"], args.timeout, quiet)
    ok = record.get("state") == wanted
    if quiet:
        emit_json({"ok": ok, "deployment": {k: record.get(k) for k in ("id", "app", "version", "state", "error")}})
    else:
        error = f" ({record['error']})" if record.get("error") else ""
        say(quiet, f"{record.get('id')}: {record.get('state')}{error}")
    return 0 if ok else FAILED


def say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
