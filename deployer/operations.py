"""Operations on a whole app, run under its lock: undeploy (all or one version) and reconcile."""

from __future__ import annotations

import logging

from deployer import gating, relocation, wiring
from deployer.decommission import decommission
from deployer.records import Record, add_event
from deployer.repair import release_endpoints, repair_endpoints
from deployer.secrets import decrypt_environment
from deployer.states import ACTIVE, Event, State

log = logging.getLogger("deployer.operations")


def undeploy(ctx, app: str, version: str | None, keep_going) -> list[str]:
    """Remove an app (routes first, then instances) or one version that no route points at."""
    records = ctx.records.for_app(app)
    if version is None:
        wiring.unwire(ctx.store, ctx.yoda, app)
        revision = wiring.bump_revision(ctx.store, ctx.yoda, f"{app}-undeploy")
        try:
            wiring.wait_applied(ctx.store, ctx.yoda, revision, ctx.options.ack_timeout, keep_going)
        except gating.GateFailed as exc:
            log.warning("undeploy %s: %s; removing instances anyway", app, exc)
    routed = wiring.routed_upstreams(ctx.store, ctx.yoda, app)
    done = []
    for record in records:
        if version is not None and record["version"] != version:
            continue
        if record["upstream"] in routed:
            log.warning("not removing %s: the proxy routes to it", record["id"])
            continue
        if record["state"] in ACTIVE:
            _cancel(ctx, record)
        elif record["state"] == State.PROMOTED:
            decommission(ctx, record, reason="undeploy requested")
        else:
            continue
        done.append(record["id"])
    return done


def _cancel(ctx, record: Record) -> None:
    from deployer.decommission import remove_instances

    remove_instances(ctx, record)

    def change(r: Record) -> tuple[Record, None]:
        r["state"], r["error"] = State.FAILED, "undeployed before it was promoted"
        add_event(r, Event.DEPLOYMENT_FAILED, reason=r["error"])
        return r, None

    ctx.records.update(record["id"], change)


def reconcile(ctx, app: str) -> list[dict]:
    """Desired (PROMOTED deployments) against actual (scheduler status): move instances off hosts
    that do not answer (deployer/relocation.py), restart missing instances, remove orphans and
    copies left on a host an instance was moved from, register the endpoints of healthy instances
    yoda-discover has not (deployer/repair.py), record what is left as drift. Returns what it did."""
    records = {r["id"]: r for r in ctx.records.for_app(app)}
    wanted = {i: r for i, r in records.items() if r["state"] in ACTIVE or r["state"] == State.PROMOTED}
    actions: list[dict] = []
    by_scheduler = {r["scheduler"] for r in records.values()} or {ctx.settings.scheduler}
    routed = wiring.routed_upstreams(ctx.store, ctx.yoda, app)
    for name in by_scheduler:
        scheduler = ctx.scheduler(name)
        for instance in scheduler.instances(app):
            known = records.get(instance.deployment)
            if known and known["state"] == State.PROMOTED and scheduler.remove_stray(known, instance):
                moved = {"node": instance.node, "deployment": known["id"], "host": instance.host}
                actions.append({"type": Event.ORPHAN_REMOVED, **moved})
                continue
            if known and known["upstream"] in routed:
                continue  # a failed deployment the proxy may still point at is kept until re-routed
            if instance.deployment not in wanted:
                orphan = records.get(instance.deployment) or {
                    "id": instance.deployment,
                    "instances": {},
                    "scheduler": name,
                    "spec": {},
                }
                scheduler.destroy(orphan)
                actions.append({"type": Event.ORPHAN_REMOVED, "node": instance.node, "deployment": instance.deployment})
    for record in records.values():
        if record["state"] != State.PROMOTED or record["spec"].get("schedule"):
            release_endpoints(ctx, record)  # a scheduled job has no instances to restart: its runs end
            continue
        scheduler = ctx.scheduler(record["scheduler"])
        record, moved = relocation.relocate(ctx, record, scheduler)
        if moved:
            actions.append({"type": Event.INSTANCE_MOVED, "deployment": record["id"], "moved": moved})
        found = scheduler.status(record)
        record = relocation.track_addresses(ctx, record, found)
        status = {i.node: i for i in found}
        missing = [n for n in record["instances"] if n not in status or not status[n].running]
        if missing:
            environment = decrypt_environment(record["request"].get("environment") or {}, ctx.options.encryption_key)
            scheduler.deploy(record, environment)
            del environment
            scheduler.start(record)
            actions.append({"type": Event.INSTANCE_RESTARTED, "deployment": record["id"], "nodes": missing})
        repaired, unregistered = repair_endpoints(ctx, record, skip=set(missing))
        if repaired:
            actions.append({"type": Event.ENDPOINT_REPAIRED, "deployment": record["id"], "nodes": repaired})
        if unregistered:
            actions.append({"type": Event.DRIFT, "deployment": record["id"], "unregistered": unregistered})
    for action in actions:
        target = action.get("deployment")
        if target in wanted:

            def note(r: Record, a: dict = action) -> tuple[Record, None]:
                add_event(r, a["type"], component="reconcile", **{k: v for k, v in a.items() if k != "type"})
                return r, None

            ctx.records.update(target, note)
    return actions
