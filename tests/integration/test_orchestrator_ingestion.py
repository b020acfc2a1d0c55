"""The hook hot path on the real Redis: one read and one compare-and-write per hook (jobs.atomic),
the hook's events stored with it, and one queued task per job however many hooks land meanwhile
(jobs.queued), queued in the same step. No worker runs here: the queue is read as the list it is."""

from __future__ import annotations

import base64
import json
import threading
import uuid

import pytest

from orchestrator import events
from orchestrator.hooks import intake
from orchestrator.jobs import atomic, queued
from orchestrator.jobs.model import Hook
from orchestrator.jobs.store import JobStore
from orchestrator.runtime import QUEUE, Runtime
from orchestrator.settings import OrchestratorSettings
from totem import task_message
from totem.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/14"  # no worker consumes this database's queue


@pytest.fixture
def rt():
    env = {"TOTEM_REDIS_URL": REDIS_URL, "TOTEM_ORCHESTRATOR_PREFIX": f"totem:ingest:{uuid.uuid4().hex[:8]}"}
    runtime = Runtime.create(Settings.from_env(env), OrchestratorSettings.from_env(env))
    before = set(runtime.redis.lrange(QUEUE, 0, -1))
    yield runtime
    for message in set(runtime.redis.lrange(QUEUE, 0, -1)) - before:  # ours only: the list may be shared
        runtime.redis.lrem(QUEUE, 0, message)
    for key in runtime.redis.scan_iter(f"{runtime.options.redis_prefix}:*", count=1000):
        runtime.redis.delete(key)


def hook(app: str, sha: str, kind: str = "builder", name: str = "image-factory") -> Hook:
    return Hook("acme", app, "main", sha, kind, name, "success", {"image": f"img:{sha[:6]}"})


def tasks_for(rt: Runtime, job_id: str) -> int:
    """process_job messages waiting in the queue for `job_id`."""
    messages = [json.loads(raw) for raw in rt.redis.lrange(QUEUE, 0, -1)]
    return sum(
        1 for m in messages if m["headers"]["task"] == "orchestrator.process_job" and job_id in m["headers"]["argsrepr"]
    )


def test_a_hook_is_stored_with_its_events_before_the_answer(rt):
    answer = intake.accept(rt, hook("shop", "a" * 40))
    job = JobStore(rt).get(answer["job"]["id"])
    assert answer["status"] == "accepted" and job["hooks"]["builder:image-factory"]["status"] == "success"
    assert [e["type"] for e in events.query(rt, job_id=job["id"])] == ["NEW_JOB", "HOOK_RECEIVED"]
    assert JobStore(rt).current_id("acme/shop/main") == job["id"]


def test_a_repeated_hook_changes_nothing_and_a_superseded_commit_is_ignored(rt):
    first = intake.accept(rt, hook("shop", "a" * 40))
    again = intake.accept(rt, hook("shop", "a" * 40))
    intake.accept(rt, hook("shop", "b" * 40))
    late = intake.accept(rt, hook("shop", "a" * 40))
    assert again["job"] == first["job"] and late["status"] == "ignored" and late["reason"] == "superseded commit"
    kinds = [e["type"] for e in events.query(rt, job_id=first["job"]["id"])]
    assert kinds == ["NEW_JOB", "HOOK_RECEIVED", "NEW_COMMIT", "HOOK_RECEIVED", "COMMIT_IGNORED"]
    assert JobStore(rt).get(first["job"]["id"])["commit"] == "b" * 40


def test_a_write_based_on_a_stale_read_writes_nothing(rt):
    key = rt.key("job", "x")
    rt.redis.set(key, "v1")
    batch = atomic.Batch()
    batch.add("SET", key, "mine")
    batch.add("RPUSH", rt.key("log"), "entry", best_effort=True)
    rt.redis.set(key, "v2")  # another writer, after our read of "v1"
    assert atomic.write(rt.redis, batch, {key: "v1"}) is None
    assert rt.redis.get(key) == "v2" and not rt.redis.exists(rt.key("log"))
    assert atomic.write(rt.redis, batch, {key: "v2"}) == ["OK", 1]
    assert rt.redis.get(key) == "mine"


def test_a_failing_best_effort_write_does_not_undo_the_rest(rt):
    wrong = rt.key("a-string")
    rt.redis.set(wrong, "not a list")
    batch = atomic.Batch()
    batch.add("SET", rt.key("job", "y"), "kept")
    batch.add("RPUSH", wrong, "event", best_effort=True)
    assert atomic.write(rt.redis, batch) == ["OK", None]
    assert rt.redis.get(rt.key("job", "y")) == "kept"


def test_concurrent_hooks_on_one_commit_lose_no_update(rt):
    sha, names = "c" * 40, [f"ci-{i}" for i in range(24)]
    threads = [threading.Thread(target=intake.accept, args=(rt, hook("shop", sha, "ci", n))) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    job = JobStore(rt).get(JobStore(rt).current_id("acme/shop/main"))
    assert sorted(job["hooks"]) == sorted(f"ci:{n}" for n in names)
    assert [e["type"] for e in events.query(rt, job_id=job["id"])].count("HOOK_RECEIVED") == len(names)


def test_hooks_landing_while_a_task_waits_queue_no_second_one(rt):
    job_id = intake.accept(rt, hook("shop", "a" * 40))["job"]["id"]
    intake.accept(rt, hook("shop", "b" * 40))
    intake.accept(rt, hook("shop", "b" * 40, "ci", "travis"))
    assert tasks_for(rt, job_id) == 1
    queued.release(rt, job_id)  # what the task does before it reads the job
    intake.accept(rt, hook("shop", "c" * 40))
    assert tasks_for(rt, job_id) == 2
    other = intake.accept(rt, hook("cart", "a" * 40))["job"]["id"]
    assert tasks_for(rt, other) == 1  # the mark is per job


def test_a_step_based_on_a_stale_read_queues_no_task(rt):
    key = rt.key("job", "z")
    rt.redis.set(key, "v1")
    batch = atomic.Batch()
    batch.add("SET", key, "mine")
    queued.claim(rt, batch, "z")
    rt.redis.set(key, "v2")  # another writer, after our read of "v1"
    assert atomic.write(rt.redis, batch, {key: "v1"}) is None
    assert tasks_for(rt, "z") == 0 and not rt.redis.exists(rt.key("queued", "z"))


def test_the_queued_message_is_the_one_celery_itself_writes(rt):
    """What totem.task_message writes has Celery's own shape, so the worker runs it (the pipeline
    tests show it does): a Celery or kombu upgrade that changes the format fails here first."""
    scratch = f"scratch-{uuid.uuid4().hex[:8]}"
    rt.celery.send_task("orchestrator.process_job", args=["j-1"], queue=scratch, ignore_result=True)
    theirs = json.loads(rt.redis.rpop(scratch))
    rt.redis.delete(f"_kombu.binding.{scratch}", f"_kombu.binding_permanent.{scratch}")
    ours = json.loads(task_message.encode("orchestrator.process_job", ["j-1"], scratch))

    def shape(message: dict) -> dict:
        return {k: sorted(v) if isinstance(v, dict) else v for k, v in message.items() if k != "body"}

    assert shape(ours) == {**shape(theirs), "properties": sorted(set(theirs["properties"]) - {"reply_to"})}
    assert base64.b64decode(ours["body"]) == base64.b64decode(theirs["body"])
    fixed = ("task", "argsrepr", "kwargsrepr", "retries", "timelimit", "ignore_result", "lang", "stamps")
    assert {k: ours["headers"][k] for k in fixed} == {k: theirs["headers"][k] for k in fixed}
    assert ours["properties"]["delivery_info"] == theirs["properties"]["delivery_info"]
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
