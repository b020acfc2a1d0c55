"""The deployment lifecycle: each step is idempotent and recorded as an event in etcd, so a
deployment resumes after a crash from its last recorded step (under the per-app lock)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from deployer import gating, job_runs, notify, relocation, rollout, wiring
from deployer.decommission import decommission, remove_instances
from deployer.records import Record, add_event, has_event, with_fields
from deployer.secrets import decrypt_environment
from deployer.slots import StartSlots
from deployer.states import ACTIVE, Event, Phase, State
from totem import metrics
from totem.logs import log_context
from totem.notify import Level
from totem.store import LockLost
from totem.waiting import pause

log = logging.getLogger("deployer.lifecycle")


class Lifecycle:
    def __init__(self, ctx, lock):
        self.ctx = ctx
        self.lock = lock
        self.records = ctx.records
        self.yoda = ctx.yoda

    def keep_going(self) -> None:
        self.lock.check()

    def event(self, record: Record, event: Event, state: State | None = None, **details) -> Record:
        def change(r: Record) -> tuple[Record, Record]:
            if state is not None:
                r["state"] = state
            add_event(r, event, **details)
            return r, r

        log.info("%s %s", record["id"], event, extra={"details": details})
        stored = self.records.update(record["id"], change)
        metrics.deployment_event(stored.get("events", []), event)
        return stored

    # -- driver ------------------------------------------------------------------
    def run(self, deployment_id: str) -> Record:
        record = self.records.get(deployment_id)
        with log_context(deployment_id=deployment_id):
            if record is None or record["state"] not in ACTIVE:
                return record
            if record.get("failing"):
                return self.fail(record, record["failing"])
            if _age(record) > self.ctx.options.deadline:
                return self.fail(record, "deadline passed")
            if record["state"] == State.NEW:
                previous = self.records.live(record["app"])
                self.records.update(deployment_id, with_fields(previous=previous))
                record = self.event(record, Event.DEPLOYMENT_STARTED, State.STARTED, previous=previous)
            try:
                for event, step in self.steps(record):
                    if not has_event(record, event):
                        self.keep_going()
                        current = self.records.get(deployment_id)
                        aborted = (current.get("control") or {}).get("abort")
                        if aborted is not None:
                            raise gating.GateFailed(f"aborted by {current['control'].get('by', 'operator')}: {aborted}")
                        details = step(current) or {}
                        record = self.event(
                            record, event, State.PROMOTED if event is Event.DEPLOYMENT_PROMOTED else None, **details
                        )
            except LockLost:
                raise
            except Exception as exc:  # any step failing fails the deployment (cleanly)
                log.warning("%s failed: %s", deployment_id, exc)
                return self.fail(
                    self.records.get(deployment_id),
                    f"{type(exc).__name__}: {exc}" if not isinstance(exc, gating.GateFailed) else str(exc),
                )
            self.records.set_live(record["app"], deployment_id)
            if record.get("rollout") is not None:
                rollout.Rollout(self).show(record, phase=Phase.PROMOTED, step=None, weight=100)
            metrics.DEPLOYMENTS.labels(outcome="promoted").inc()
            self._notify(record, Level.SUCCESS, "promoted")
            return record

    def steps(self, record: Record):
        steps: list[tuple[Event, Callable[[Record], dict]]] = []
        if record["mode"] == "red-green":
            steps.append((Event.OTHERS_STOPPED, self.stop_others))
        if job_runs.is_job(record):  # not started, discovered, checked nor wired: its runs come on schedule
            return steps + [
                (Event.JOB_SCHEDULED, self.schedule_job),
                (Event.DRAINED, self.retire_others),
                (Event.DEPLOYMENT_PROMOTED, lambda r: {}),
            ]
        steps += [
            (Event.INSTANCES_STARTED, self.start_instances),
            (Event.INSTANCES_RUNNING, self.wait_running),
            (Event.NODES_DISCOVERED, self.discover),
            (Event.CHECK_PASSED, self.check),
        ]
        progressive = rollout.Rollout(self)
        if record["spec"].get("preview"):
            steps.append((Event.PREVIEW_READY, progressive.preview))
        if record["spec"].get("rollout"):
            steps.append((Event.ROLLOUT_COMPLETE, progressive.canary))
        steps += [
            (Event.WIRED, self.wire),
            (Event.PROXIES_APPLIED, self.wait_proxies),
            (Event.DRAINED, self.drain),
            (Event.DEPLOYMENT_PROMOTED, lambda r: {}),
        ]
        return steps

    # -- steps -------------------------------------------------------------------
    def stop_others(self, record: Record) -> dict:
        stopped = [o["id"] for o in self._others(record)]
        for other in self._others(record):
            decommission(self.ctx, other, reason=f"red-green deployment {record['id']}")
        return {"stopped": stopped}

    def start_instances(self, record: Record) -> dict:
        scheduler = self.ctx.scheduler(record["scheduler"])
        slots = StartSlots(self.ctx.store, self.records.root, self.ctx.options.start_limit)
        slot = slots.acquire(record["id"], self.keep_going)
        try:
            placed = scheduler.place(record)
            skipped = scheduler.unavailable()
            record = self.records.update(record["id"], with_fields(instances=placed))
            wiring.register_upstream(self.ctx.store, self.yoda, record)
            environment = decrypt_environment(
                record["request"].get("environment") or {}, self.ctx.options.encryption_key
            )
            scheduler.deploy(record, environment)
            del environment
            scheduler.start(record)
            gating.wait_running(scheduler, record, self.ctx.options.start_timeout, self.keep_going)
            record = relocation.track_addresses(self.ctx, record, scheduler.status(record))
        finally:
            slots.release(slot, record["id"])
        started = {n: f"{w['address']}:{w['port']}" for n, w in record["instances"].items()}
        return {"instances": started, "skipped": skipped} if skipped else {"instances": started}

    def wait_running(self, record: Record) -> dict:
        scheduler = self.ctx.scheduler(record["scheduler"])
        return {"running": gating.wait_running(scheduler, record, self.ctx.options.start_timeout, self.keep_going)}

    def discover(self, record: Record) -> dict:
        skipped = gating.skipped_discovery(record)
        if skipped:
            return skipped
        found = gating.wait_discovered(
            self.ctx.store, self.yoda, record, self.ctx.options.discover_timeout, self.keep_going
        )
        return {"endpoints": found}

    def check(self, record: Record) -> dict:
        skipped = gating.skipped_check(record)
        if skipped:
            return skipped
        found = gating.endpoints(self.ctx.store, self.yoda, record)
        if len(found) < record["spec"]["min_nodes"]:
            found = gating.wait_discovered(
                self.ctx.store, self.yoda, record, self.ctx.options.discover_timeout, self.keep_going
            )
        results = gating.http_check(found, record, self.ctx.options.check_interval, self.keep_going)
        # instances past `min-nodes` may have started since: a swarm task's address is known once it runs
        relocation.track_addresses(self.ctx, record, self.ctx.scheduler(record["scheduler"]).status(record))
        return {"path": record["spec"]["check_path"], "checked": results}

    def wire(self, record: Record) -> dict:
        canary = base = None
        if record["mode"] == "a/b":
            live = self.records.get(self.records.live(record["app"]) or "")
            if live and live["upstream"] != record["upstream"] and live["state"] == State.PROMOTED:
                canary, base = record["upstream"], live["upstream"]
        keys = wiring.desired(self.yoda, record, canary, base)
        self.records.update(record["id"], with_fields(wired=True))
        wiring.apply(self.ctx.store, self.yoda, record["app"], keys)
        revision = wiring.bump_revision(self.ctx.store, self.yoda, record["id"])
        self.records.update(record["id"], with_fields(revision=revision))
        return {"revision": revision, "hosts": sorted(record["spec"]["wiring"]), "canary-of": base}

    def wait_proxies(self, record: Record) -> dict:
        nodes = wiring.wait_applied(  # with the app: a proxy that skipped its entries fails the deploy
            self.ctx.store, self.yoda, record["revision"], self.ctx.options.ack_timeout, self.keep_going, record["app"]
        )
        return {"revision": record["revision"], "proxies": nodes}

    def drain(self, record: Record) -> dict:
        if record["mode"] == "a/b":
            return {"kept": [o["id"] for o in self._others(record)]}
        if self._others(record):
            pause(record["spec"]["drain"], self.lock.lost)  # a lost lock ends the drain at once
            self.keep_going()
        return {"seconds": record["spec"]["drain"], **self._retire(record)}

    # -- scheduled jobs ----------------------------------------------------------
    def schedule_job(self, record: Record) -> dict:
        """A scheduled job's definition in place (docker, swarm: its image on the hosts; fleet: its
        units, the timers launched), nothing run yet; the proxy section ignored."""
        scheduler = self.ctx.scheduler(record["scheduler"])
        schedule = record["spec"]["schedule"]
        details: dict = {"schedule": schedule, "runner": "timers" if scheduler.runs_schedules else "deployer"}
        ignored = record["spec"].get("ignored_proxy_hosts")
        if ignored:
            details["proxy"] = f"ignored for a scheduled job (never wired): {', '.join(ignored)}"
        if not scheduler.runs_schedules:
            return {**details, **scheduler.prepare_job(record)}
        record = self.records.update(record["id"], with_fields(instances=scheduler.place(record)))
        environment = decrypt_environment(record["request"].get("environment") or {}, self.ctx.options.encryption_key)
        scheduler.deploy(record, environment)
        del environment
        scheduler.start(record)  # fleet: the timers and sidekicks; each timer starts its app unit
        return {**details, "units": sorted(record["instances"])}

    def retire_others(self, record: Record) -> dict:
        """Older versions decommissioned at once: a job serves no traffic to drain."""
        return {"seconds": 0, **self._retire(record)}

    # -- failure -----------------------------------------------------------------
    def fail(self, record: Record, reason: str) -> Record:
        self.records.update(record["id"], with_fields(failing=reason))
        details = {"reason": reason}
        if record.get("wired"):
            details.update(self._restore_wiring(record))
        if details.get("instances") != "kept":
            remove_instances(self.ctx, record)
            details["instances"] = "removed"

        def change(r: Record) -> tuple[Record, Record]:
            r["state"], r["error"] = State.FAILED, reason
            r.pop("failing", None)
            if r.get("rollout") is not None:  # the dashboard's rollout panel says how it ended
                r["rollout"].update(phase=Phase.ABORTED if rollout.started(r) else Phase.FAILED, reason=reason)
            add_event(r, Event.DEPLOYMENT_FAILED, **details)
            return r, r

        record = self.records.update(record["id"], change)
        metrics.DEPLOYMENTS.labels(outcome="failed").inc()
        self._notify(record, Level.FAILED, reason)
        return record

    def _restore_wiring(self, record: Record) -> dict:
        """Point this app's routes back at the previous version (or remove them) and wait for the proxies."""
        previous = self.records.get(record.get("previous") or "")
        if previous and previous["state"] == State.PROMOTED:
            keys = wiring.desired(self.yoda, previous)
        else:
            keys, previous = {}, None
        try:
            wiring.apply(self.ctx.store, self.yoda, record["app"], keys)
            revision = wiring.bump_revision(self.ctx.store, self.yoda, record["id"])
            wiring.wait_applied(self.ctx.store, self.yoda, revision, self.ctx.options.ack_timeout, self.keep_going)
        except gating.GateFailed as exc:
            return {"wiring": "restore not acknowledged", "instances": "kept", "why": str(exc)}
        self.records.update(record["id"], with_fields(wired=False))
        return {"wiring": f"restored to {previous['id']}" if previous else "removed"}

    # -- helpers -----------------------------------------------------------------
    def _retire(self, record: Record) -> dict:
        """Decommission the app's other promoted versions, except one the proxy still routes to."""
        routed = wiring.routed_upstreams(self.ctx.store, self.yoda, record["app"])
        stopped, kept = [], []
        for other in self._others(record):
            if other["upstream"] in routed and other["upstream"] != record["upstream"]:
                kept.append(other["id"])  # the proxy still points at it: never stop what serves traffic
                continue
            decommission(self.ctx, other, reason=f"replaced by {record['id']}", keep_upstream=record["upstream"])
            stopped.append(other["id"])
        return {"decommissioned": stopped, **({"kept": kept} if kept else {})}

    def _others(self, record: Record) -> list[Record]:
        return [
            r for r in self.records.for_app(record["app"]) if r["id"] != record["id"] and r["state"] == State.PROMOTED
        ]

    def _notify(self, record: Record, level: Level, message: str) -> None:
        notify.send(
            record, level, message, notify.delivery(self.ctx.settings, self.ctx.options), self.ctx.settings.deployer_url
        )


def _age(record: Record) -> float:
    created = datetime.strptime(record["created"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return time.time() - created.timestamp()
