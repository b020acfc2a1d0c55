"""Scheduled jobs' runs on the `docker` and `swarm` schedulers (fleet's systemd timers run its own).

Every BEAT seconds the deployer's beat task (`deployer.schedule_runs`) looks at each app's live
deployment; when it is a PROMOTED scheduled job whose next run is due (deployer/job_due.py), it
claims the run by creating its key, create-if-absent, so one run per scheduled time happens across
all workers, and queues `deployer.run_job`. That task marks it running (under a leased key that is
the job's "a run is in progress"), decrypts the environment in memory only, has the scheduler run
the container once, and records the exit code, host, times and the output's tail (values of
encrypted variables masked). Runs never overlap: a run due while another runs is recorded as
skipped. A run whose worker died is marked lost. The newest MAX_RUNS runs are kept.

<root>runs/<deployment>/<run id>     one run (JSON); the id is its scheduled time, 20260101T090000Z
<root>run-active/<deployment>        the id of the run in progress (leased while its worker lives)
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from deployer.job_due import Due, due
from deployer.records import Record, now
from deployer.secrets import decrypt_environment, is_encrypted
from deployer.states import Event, State
from totem.oncalendar import parse

log = logging.getLogger("deployer.job_runs")
BEAT = 5.0  # seconds between the beat's looks: runs start within this of their time
QUEUED_FOR = 60.0  # seconds a queued run waits for a worker before it is dropped (then marked lost)
MAX_RUNS = 20
MASK_MIN = 3  # shorter secret values are not masked in output (they would hide ordinary text)
QUEUED, RUNNING, SUCCEEDED, FAILED, SKIPPED, LOST = "queued", "running", "succeeded", "failed", "skipped", "lost"
UNFINISHED = (QUEUED, RUNNING)
RUN_STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, SKIPPED, LOST)


def run_id(scheduled: datetime) -> str:
    return scheduled.strftime("%Y%m%dT%H%M%SZ")


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _epoch(stamp: str) -> float:
    """records.now() or iso() text as Unix time."""
    text = stamp.rstrip("Z").split(".")[0]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()


def is_job(record: Record | None) -> bool:
    return bool(record and record["spec"].get("schedule"))


class Runs:
    """The runs of scheduled jobs in etcd, under the deployer's records root."""

    def __init__(self, store, root: str):
        self.store, self.prefix, self.active_prefix = store, f"{root}runs/", f"{root}run-active/"

    def _key(self, deployment: str, run: str) -> str:
        return f"{self.prefix}{deployment}/{run}"

    def active_key(self, deployment: str) -> str:
        return self.active_prefix + deployment

    def history(self, deployment: str) -> list[dict]:
        """The deployment's runs, newest scheduled time first."""
        found = self.store.list(f"{self.prefix}{deployment}/")
        return [json.loads(found[key]) for key in sorted(found, reverse=True)]

    def claim(self, run: dict) -> bool:
        """Store a new run; False when that scheduled time is already someone's."""
        return self.store.create(self._key(run["deployment"], run["id"]), json.dumps(run, sort_keys=True))

    def change(self, deployment: str, run: str, change: Callable[[dict], dict | None]) -> dict | None:
        """Apply `change` atomically (it returns the new run, or None to leave it); the stored run."""

        def apply(old: str | None) -> tuple[str | None, dict | None]:
            if old is None:
                return None, None
            new = change(json.loads(old))
            return (old, json.loads(old)) if new is None else (json.dumps(new, sort_keys=True), new)

        return self.store.update(self._key(deployment, run), apply)

    def prune(self, deployment: str) -> None:
        """Keep the newest MAX_RUNS runs (and any unfinished one)."""
        for run in self.history(deployment)[MAX_RUNS:]:
            if run["status"] not in UNFINISHED:
                self.store.delete(self._key(deployment, run["id"]))


def runs_of(ctx) -> Runs:
    return Runs(ctx.store, ctx.records.root)


def _cursor(record: Record, history: list[dict]) -> datetime:
    """The last scheduled time handled: the newest run's, else when the job was promoted."""
    if history:
        return datetime.fromtimestamp(_epoch(history[0]["scheduled"]), UTC)
    dates = [e["date"] for e in record.get("events", []) if e["type"] == Event.DEPLOYMENT_PROMOTED]
    return datetime.fromtimestamp(_epoch(dates[-1] if dates else record["updated"]), UTC)


def _settle(ctx, runs: Runs, record: Record, history: list[dict]) -> list[dict]:
    """Mark lost the unfinished runs nobody works on: queued past QUEUED_FOR, or running while the
    leased key says no run is in progress (its worker died). Returns the history as it now is."""
    active = ctx.store.get(runs.active_key(record["id"]))
    settled = []
    for run in history:
        stale = (run["status"] == QUEUED and time.time() - _epoch(run["claimed"]) > QUEUED_FOR) or (
            run["status"] == RUNNING and active != run["id"]
        )
        if stale:
            why = "no worker took it in time" if run["status"] == QUEUED else "its worker stopped"
            run = runs.change(record["id"], run["id"], _to_lost(run["status"], why)) or run
        settled.append(run)
    return settled


def _to_lost(status: str, why: str) -> Callable[[dict], dict | None]:
    def change(run: dict) -> dict | None:
        if run["status"] != status:
            return None  # it moved on meanwhile
        return {**run, "status": LOST, "finished": now(), "reason": why}

    return change


def new_run(record: Record, found: Due, status: str = QUEUED, reason: str | None = None) -> dict:
    note = f"runs missed since {iso(found.missed_from)}: this one catches up" if found.missed_from else None
    return {
        "id": run_id(found.scheduled),
        "deployment": record["id"],
        "scheduled": iso(found.scheduled),
        "claimed": now(),
        "status": status,
        "started": None,
        "finished": None if status == QUEUED else now(),
        "exit_code": None,
        "host": None,
        "output": "",
        "reason": reason,
        "note": note,
    }


def claim_due(ctx, record: Record, moment: datetime | None = None) -> str | None:
    """Claim the job's run due now, if any: the run id to queue, or None (nothing due, another worker
    claimed it, or it is recorded as skipped)."""
    if not is_job(record) or record["state"] != State.PROMOTED:
        return None
    moment = moment or datetime.now(UTC)
    runs = runs_of(ctx)
    history = _settle(ctx, runs, record, runs.history(record["id"]))
    found = due(parse(record["spec"]["schedule"]), _cursor(record, history), moment, ctx.options.missed_runs)
    if found is None:
        return None
    busy = [r["id"] for r in history if r["status"] in UNFINISHED]
    if found.skip:
        run = new_run(record, found, SKIPPED, found.skip)
    elif busy:
        run = new_run(record, found, SKIPPED, f"run {busy[0]} was still running")
    else:
        run = new_run(record, found)
    if not runs.claim(run):
        return None
    runs.prune(record["id"])
    log.info("%s run %s %s", record["id"], run["id"], run["status"], extra={"details": {"reason": run["reason"]}})
    return run["id"] if run["status"] == QUEUED else None


def due_runs(ctx) -> list[tuple[str, str]]:
    """(deployment, run id) of every run claimed now, over the live deployments of every app."""
    claimed = []
    for app in ctx.records.apps():
        record = ctx.records.get(ctx.records.live(app) or "")
        if not is_job(record) or ctx.scheduler(record["scheduler"]).runs_schedules:
            continue
        try:
            found = claim_due(ctx, record)
        except Exception:  # one job's trouble (etcd hiccup, a bad record) never stops the others
            log.exception("planning the runs of %s", record["id"])
            continue
        if found:
            claimed.append((record["id"], found))
    return claimed


def _masked(output: str, environment: dict[str, str], request_environment: dict) -> str:
    for name, value in request_environment.items():
        secret = environment.get(name, "")
        if is_encrypted(value) and len(secret) >= MASK_MIN:
            output = output.replace(secret, "***")
    return output


def execute(ctx, deployment: str, run: str) -> dict | None:
    """Run a claimed run to its end and record it; None when it is not this call's to run."""
    runs = runs_of(ctx)
    record = ctx.records.get(deployment)
    if record is None or record["state"] != State.PROMOTED:
        return runs.change(deployment, run, _skip_queued("the deployment is no longer PROMOTED"))
    lease = ctx.store.lease(max(3, ctx.options.lock_ttl)).keep_alive()
    try:
        if not ctx.store.create(runs.active_key(deployment), run, lease):
            other = ctx.store.get(runs.active_key(deployment))
            return runs.change(deployment, run, _skip_queued(f"run {other} was still running"))
        token = uuid.uuid4().hex
        started = runs.change(deployment, run, _start(token))
        if started is None or started.get("worker") != token:
            return None  # marked lost, or run by an earlier delivery of the task
        return runs.change(deployment, run, _finish(_run(ctx, record, run)))
    finally:
        lease.revoke()
        runs.prune(deployment)


def _start(token: str) -> Callable[[dict], dict | None]:
    def change(run: dict) -> dict | None:
        return {**run, "status": RUNNING, "started": now(), "worker": token} if run["status"] == QUEUED else None

    return change


def _skip_queued(why: str) -> Callable[[dict], dict | None]:
    def change(run: dict) -> dict | None:
        return {**run, "status": SKIPPED, "reason": why, "finished": now()} if run["status"] == QUEUED else None

    return change


def _run(ctx, record: Record, run: str) -> dict:
    """The fields a finished run records."""
    requested = record["request"].get("environment") or {}
    try:
        environment = decrypt_environment(requested, ctx.options.encryption_key)
        try:
            result = ctx.scheduler(record["scheduler"]).run_once(record, run, environment, ctx.options.job_timeout)
            output = _masked(result.output, environment, requested)
        finally:
            del environment
    except Exception as exc:  # the run could not happen: recorded, never raised into the worker
        log.warning("%s run %s: %s", record["id"], run, exc)
        return {"status": FAILED, "reason": f"{type(exc).__name__}: {exc}", "finished": now()}
    return {
        "status": SUCCEEDED if result.exit_code == 0 else FAILED,
        "exit_code": result.exit_code,
        "started": result.started,
        "finished": result.finished,
        "host": result.host,
        "output": output,
        "reason": result.error,
    }


def _finish(fields: dict) -> Callable[[dict], dict | None]:
    def change(run: dict) -> dict | None:
        return {**run, **fields} if run["status"] == RUNNING else None

    return change


def view(ctx, record: Record | None) -> dict | None:
    """A scheduled job as GET /apps/<name> shows it: expression, next run, newest runs first."""
    if not is_job(record):
        return None
    assert record is not None
    timers = ctx.scheduler(record["scheduler"]).runs_schedules
    history = [] if timers else runs_of(ctx).history(record["id"])
    upcoming = parse(record["spec"]["schedule"]).next_after(_cursor(record, history))
    return {
        "deployment": record["id"],
        "schedule": record["spec"]["schedule"],
        "runner": "systemd timers (fleet)" if timers else "deployer",
        "next": iso(upcoming) if record["state"] == State.PROMOTED else None,
        "runs": [{k: v for k, v in r.items() if k not in ("worker", "claimed")} for r in history],
    }
