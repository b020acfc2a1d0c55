"""Stopping and removing a deployment's instances and its upstream, and marking it DECOMMISSIONED."""

from __future__ import annotations

import logging

from deployer import wiring
from deployer.records import Record, add_event
from deployer.states import ACTIVE, Event, State

log = logging.getLogger("deployer.decommission")


def upstream_shared(ctx, record: Record) -> bool:
    """Another live or in-progress deployment (a redeploy of the same version) uses the upstream."""
    return any(
        r["id"] != record["id"]
        and r["upstream"] == record["upstream"]
        and (r["state"] in ACTIVE or r["state"] == State.PROMOTED)
        for r in ctx.records.for_app(record["app"])
    )


def remove_instances(ctx, record: Record) -> None:
    scheduler = ctx.scheduler(record["scheduler"])
    try:
        scheduler.stop(record)
    except Exception as exc:  # destroy below removes them regardless
        log.warning("stopping %s: %s", record["id"], exc)
    scheduler.destroy(record)
    if not upstream_shared(ctx, record):
        wiring.remove_upstream(ctx.store, ctx.yoda, record["upstream"])


def decommission(ctx, record: Record, reason: str, keep_upstream: str | None = None) -> Record:
    if record["upstream"] == keep_upstream:
        ctx.scheduler(record["scheduler"]).destroy(record)  # same version redeployed: instances only
    else:
        remove_instances(ctx, record)

    def change(r: Record) -> tuple[Record, Record]:
        r["state"] = State.DECOMMISSIONED
        add_event(r, Event.DECOMMISSIONED, reason=reason)
        return r, r

    record = ctx.records.update(record["id"], change)
    if ctx.records.live(record["app"]) == record["id"]:
        ctx.records.set_live(record["app"], None)
    return record
