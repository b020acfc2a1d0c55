"""Scheduled jobs against real etcd with an in-memory scheduler: intake, the lifecycle's scheduled
branch (never started, discovered, checked nor wired), claiming runs once per scheduled time,
running them, overlap, lost runs, bounded history, and the reconcile leaving them alone.

2015 (deployer/services/deployment.py `check_and_apply_schedule`): a scheduled deployment got no
proxy upstreams, hosts or listeners, check port None and path '', and a timer unit on fleet; other
schedulers were not supported. Here the same rules hold on every scheduler, the deployer running
the job itself on `docker` and `swarm`.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from deployer import job_runs
from deployer.context import Context
from deployer.intake import new_record, prepare
from deployer.lifecycle import Lifecycle
from deployer.operations import reconcile
from deployer.schedulers.base import RunResult
from deployer.secrets import encrypt
from deployer.settings import DeployerSettings
from tests.fixtures.deployer.fake_scheduler import FakeScheduler
from tests.fixtures.deployer.harness import deploy_request
from totem.api import ApiError
from totem.contracts import yoda
from totem.settings import Settings

KEY = "yaHvhqpRwLEWGwvc0qCzBaJGvAA6m6cC9bSxIsBVdW4="


class JobScheduler(FakeScheduler):
    """FakeScheduler plus the job methods: each run 'prints' its environment's SECRET and exits
    with `exit_code`."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.exit_code = 0
        self.prepared: list[str] = []
        self.ran: list[tuple[str, str, dict]] = []

    def prepare_job(self, record):
        self.prepared.append(record["id"])
        return {"image": record["spec"]["image"], "hosts": ["fake"]}

    def run_once(self, record, run_id, environment, timeout):
        self.ran.append((record["id"], run_id, dict(environment)))
        if self.exit_code is None:
            raise RuntimeError("engine said no")
        output = f"hello from {run_id}; secret={environment.get('SECRET', '')}\n"
        return RunResult(self.exit_code, output, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z", "fake")


@pytest.fixture
def ctx():
    root = f"/test-{uuid.uuid4().hex[:10]}/"
    env = {
        "TOTEM_CLUSTER": "unit",
        "YODA_BASE": root + "yoda",
        "TOTEM_DEPLOYER_PREFIX": root + "deployer",
        "TOTEM_DEPLOYER_DRAIN": "0",
        "TOTEM_DEPLOYER_ACK_TIMEOUT": "1",
        "TOTEM_DEPLOYER_LOCK_TTL": "3",
        "TOTEM_ENCRYPTION_KEY": KEY,
    }
    ctx = Context(Settings.from_env(env), DeployerSettings.from_env(env), scheduler_factories={"fake": JobScheduler})
    yield ctx
    ctx.scheduler("fake").close()
    ctx.store.delete_prefix(root)


def job_request(app: str, version: str = "v1", schedule: str | None = "*:0/1") -> dict:
    request = deploy_request(app, version, f"img:{version}", f"{app}.localhost", nodes=1)
    request["schedule"] = schedule
    request["environment"]["SECRET"] = {"value": encrypt(KEY, "hush-hush"), "encrypted": True}
    return request


def deploy(ctx, request: dict) -> dict:
    record = new_record(ctx, request, "fake")
    ctx.records.create(record)
    lock = ctx.store.lock(f"deployer/{record['app']}", ttl=10)
    with lock:
        return Lifecycle(ctx, lock).run(record["id"])


def promoted_at(record: dict) -> datetime:
    date = [e["date"] for e in record["events"] if e["type"] == "DEPLOYMENT_PROMOTED"][-1]
    return datetime.fromtimestamp(job_runs._epoch(date), UTC)


def next_minute(moment: datetime, minutes: int = 1) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=minutes)


# -- intake --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "schedule, message",
    [
        ("*:99", "body.schedule: minute 99 is out of range 0..59"),
        ("2020-01-01", "body.schedule: '2020-01-01' never comes again"),
        ("*:0/1 Europe/Paris", "body.schedule: times are UTC"),
        ("*:*/5", "body.schedule: '*' cannot start a minute range"),
    ],
)
def test_an_unusable_schedule_is_refused_naming_the_field(ctx, schedule, message):
    with pytest.raises(ApiError) as refused:
        prepare(ctx, job_request("nightly", schedule=schedule))
    assert refused.value.status == 400 and refused.value.message.startswith(message)
    assert refused.value.details["errors"][0]["path"] == "body.schedule"


def test_a_blank_schedule_is_none_and_a_job_ignores_its_proxy_section(ctx):
    assert prepare(ctx, job_request("web", schedule="  ")).spec["schedule"] is None
    spec = prepare(ctx, job_request("nightly", schedule=" daily ")).spec
    assert spec["schedule"] == "daily"
    assert spec["wiring"] == {}  # 2015: proxy hosts, upstreams and listeners emptied
    assert spec["ignored_proxy_hosts"] == ["nightly.localhost"]


# -- lifecycle -------------------------------------------------------------------------
def test_a_job_is_promoted_without_starting_checking_or_wiring(ctx):
    app = f"job-{uuid.uuid4().hex[:6]}"
    record = deploy(ctx, job_request(app))
    assert record["state"] == "PROMOTED", record.get("error")
    events = [e["type"] for e in record["events"]]
    assert events == ["NEW_DEPLOYMENT", "DEPLOYMENT_STARTED", "JOB_SCHEDULED", "DRAINED", "DEPLOYMENT_PROMOTED"]
    scheduled = record["events"][2]["details"]
    assert (
        scheduled["schedule"] == "*:0/1"
        and "ignored" in scheduled["proxy"]
        and f"{app}.localhost" in scheduled["proxy"]
    )
    fake = ctx.scheduler("fake")
    assert fake.prepared == [record["id"]] and fake.created == {} and record["instances"] == {}
    assert ctx.store.list(yoda.hosts_prefix(ctx.yoda)) == {}
    assert ctx.store.list(yoda.upstream_prefix(ctx.yoda, record["upstream"])) == {}
    assert ctx.records.live(app) == record["id"]


def test_a_new_version_decommissions_the_old_one(ctx):
    app = f"job-{uuid.uuid4().hex[:6]}"
    first = deploy(ctx, job_request(app, "v1"))
    second = deploy(ctx, job_request(app, "v2"))
    assert second["state"] == "PROMOTED"
    assert ctx.records.get(first["id"])["state"] == "DECOMMISSIONED"
    assert second["events"][-2]["details"]["decommissioned"] == [first["id"]]


# -- runs --------------------------------------------------------------------------------
def test_each_scheduled_time_is_claimed_once_and_run_with_its_exit_code(ctx):
    app = f"job-{uuid.uuid4().hex[:6]}"
    record = deploy(ctx, job_request(app))
    first = next_minute(promoted_at(record))
    assert job_runs.claim_due(ctx, record, first - timedelta(seconds=1)) is None  # not yet
    run = job_runs.claim_due(ctx, record, first + timedelta(seconds=2))
    assert run == first.strftime("%Y%m%dT%H%M%SZ")
    assert job_runs.claim_due(ctx, record, first + timedelta(seconds=3)) is None  # claimed: never twice

    done = job_runs.execute(ctx, record["id"], run)
    assert done["status"] == "succeeded" and done["exit_code"] == 0 and done["host"] == "fake"
    assert "hello from" in done["output"]
    assert "hush-hush" not in done["output"] and "secret=***" in done["output"]
    assert ctx.scheduler("fake").ran[0][2]["SECRET"] == "hush-hush"  # decrypted for the run only
    assert job_runs.execute(ctx, record["id"], run) is None  # a second delivery of the task: no second run
    assert len(ctx.scheduler("fake").ran) == 1

    ctx.scheduler("fake").exit_code = 3
    second = job_runs.claim_due(ctx, record, next_minute(first) + timedelta(seconds=1))
    failed = job_runs.execute(ctx, record["id"], second)
    assert failed["status"] == "failed" and failed["exit_code"] == 3

    ctx.scheduler("fake").exit_code = None  # the scheduler raises: recorded, not raised
    third = job_runs.claim_due(ctx, record, next_minute(first, 2) + timedelta(seconds=1))
    broken = job_runs.execute(ctx, record["id"], third)
    assert broken["status"] == "failed" and broken["exit_code"] is None and "engine said no" in broken["reason"]

    shown = job_runs.view(ctx, ctx.records.get(record["id"]))
    assert [r["status"] for r in shown["runs"]] == ["failed", "failed", "succeeded"]
    assert shown["next"] == (next_minute(first, 3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "worker" not in shown["runs"][0] and shown["runner"] == "deployer"


def test_a_run_due_while_another_runs_is_skipped(ctx):
    record = deploy(ctx, job_request(f"job-{uuid.uuid4().hex[:6]}"))
    first = next_minute(promoted_at(record))
    run = job_runs.claim_due(ctx, record, first + timedelta(seconds=1))
    lease = ctx.store.lease(30)
    runs = job_runs.runs_of(ctx)
    ctx.store.put(runs.active_key(record["id"]), run, lease)  # a worker runs it now
    runs.change(record["id"], run, lambda r: {**r, "status": "running"})
    try:
        assert job_runs.claim_due(ctx, record, next_minute(first) + timedelta(seconds=1)) is None
        skipped = runs.history(record["id"])[0]
        assert skipped["status"] == "skipped" and skipped["reason"] == f"run {run} was still running"
    finally:
        lease.revoke()


def test_a_running_run_whose_worker_died_is_marked_lost(ctx):
    record = deploy(ctx, job_request(f"job-{uuid.uuid4().hex[:6]}"))
    first = next_minute(promoted_at(record))
    run = job_runs.claim_due(ctx, record, first + timedelta(seconds=1))
    runs = job_runs.runs_of(ctx)
    runs.change(record["id"], run, lambda r: {**r, "status": "running"})  # and no leased key: nobody runs it
    later = job_runs.claim_due(ctx, record, next_minute(first) + timedelta(seconds=1))
    assert later is not None  # not held back by the dead run
    assert [r["status"] for r in runs.history(record["id"])] == ["queued", "lost"]
    assert runs.history(record["id"])[1]["reason"] == "its worker stopped"


def test_missed_runs_become_one_catch_up_run(ctx):
    record = deploy(ctx, job_request(f"job-{uuid.uuid4().hex[:6]}"))
    back = next_minute(promoted_at(record), 10) + timedelta(seconds=5)  # the deployer was down ten minutes
    run = job_runs.claim_due(ctx, record, back)
    assert run == next_minute(promoted_at(record), 10).strftime("%Y%m%dT%H%M%SZ")
    stored = job_runs.runs_of(ctx).history(record["id"])
    assert len(stored) == 1 and "catches up" in stored[0]["note"]


def test_history_keeps_the_newest_runs(ctx):
    record = deploy(ctx, job_request(f"job-{uuid.uuid4().hex[:6]}"))
    start = next_minute(promoted_at(record))
    for minute in range(job_runs.MAX_RUNS + 3):
        run = job_runs.claim_due(ctx, record, start + timedelta(minutes=minute, seconds=1))
        job_runs.execute(ctx, record["id"], run)
    kept = job_runs.runs_of(ctx).history(record["id"])
    assert len(kept) == job_runs.MAX_RUNS
    assert kept[0]["id"] == (start + timedelta(minutes=job_runs.MAX_RUNS + 2)).strftime("%Y%m%dT%H%M%SZ")


def test_no_run_for_a_job_no_longer_promoted(ctx):
    app = f"job-{uuid.uuid4().hex[:6]}"
    first = deploy(ctx, job_request(app, "v1"))
    moment = next_minute(promoted_at(first)) + timedelta(seconds=1)
    run = job_runs.claim_due(ctx, first, moment)
    deploy(ctx, job_request(app, "v2"))  # v1 decommissioned before its queued run started
    assert job_runs.execute(ctx, first["id"], run)["status"] == "skipped"
    assert job_runs.claim_due(ctx, ctx.records.get(first["id"]), moment + timedelta(minutes=1)) is None
    assert ctx.scheduler("fake").ran == []


def test_the_reconcile_leaves_a_job_alone(ctx):
    app = f"job-{uuid.uuid4().hex[:6]}"
    record = deploy(ctx, job_request(app))
    assert reconcile(ctx, app) == []
    assert ctx.scheduler("fake").calls == []  # nothing deployed, started or restarted
    assert [e["type"] for e in ctx.records.get(record["id"])["events"]][-1] == "DEPLOYMENT_PROMOTED"


def test_with_skip_missed_runs_are_recorded_skipped_and_nothing_runs(ctx):
    ctx.options = dataclasses.replace(ctx.options, missed_runs="skip")
    record = deploy(ctx, job_request(f"job-{uuid.uuid4().hex[:6]}", schedule="hourly"))
    missed = promoted_at(record).replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    back = missed + timedelta(minutes=10)  # the deployer was down over three hourly runs
    assert job_runs.claim_due(ctx, record, back) is None
    [skipped] = job_runs.runs_of(ctx).history(record["id"])
    assert skipped["scheduled"] == missed.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert skipped["status"] == "skipped" and "TOTEM_DEPLOYER_MISSED_RUNS=skip" in skipped["reason"]
    assert job_runs.claim_due(ctx, record, back + timedelta(seconds=5)) is None
    assert job_runs.claim_due(ctx, record, missed + timedelta(hours=1, seconds=1)) is not None  # the next hour
