"""Fault: the image factory's Celery worker is killed (SIGKILL, its whole process group) mid-build.

Its build must not stay `running` without a live worker: once its lease lapses, a push for the same
commit queues it again (never answers `reused` with it), the sweep of the next worker retries it,
and after TOTEM_IMAGE_FACTORY_BUILD_ATTEMPTS dead workers it is failed with the reason. Everything
runs on loopback: a private queue and Redis prefix, local bare git repositories, the local registry,
a hook receiver standing in for the orchestrator.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import redis

from image_factory.app import create_app
from image_factory.records import WORKER_DIED
from image_factory.states import FINISHED, BuildStatus
from tests.faults import FaultOutcome
from tests.images.image_factory.environment import FactoryEnvironment
from tests.images.image_factory.git_repos import GitRepo
from tests.images.image_factory.github_push import delivery, push_payload
from tests.images.image_factory.hook_receiver import HookReceiver
from tests.images.image_factory.worker_process import WorkerProcess
from totem.settings import Settings
from totem.waiting import WaitTimeout, wait

FAULT = "image factory worker SIGKILL"
# slow enough to be killed mid-build; the nonce keeps the sleep out of Docker's cache
SLOW_DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "sleep {seconds} # {nonce}"]
COPY message.txt /message.txt
"""
QUICK = {"TOTEM_IMAGE_FACTORY_LEASE": "3", "TOTEM_IMAGE_FACTORY_SWEEP_INTERVAL": "2"}


def build_worker_killed(
    root: Path, kills: int = 1, attempts: int = 3, sleep_s: int = 6, timeout: float = 60.0
) -> FaultOutcome:
    """Kill the worker building a slow commit `kills` times (each time while its build step runs),
    redeliver the push once the first dead worker's lease lapsed, start a new worker after each kill,
    and wait for the build to end: `succeeded` while kills < attempts, else `failed` with the reason.
    sent/failed: the push deliveries made / answered wrongly; recovered_s: from the last kill to the
    build's end; stuck: builds left queued or running, and what else went wrong."""
    if not 1 <= kills <= attempts:
        raise ValueError("kills must be from 1 to attempts: the build fails at the last attempt")
    secret = f"hook-secret-{uuid.uuid4().hex}"
    with HookReceiver(secret) as receiver, pytest.MonkeyPatch.context() as patch:
        env = FactoryEnvironment(root, receiver.url, secret)
        env.env.update(QUICK, TOTEM_IMAGE_FACTORY_BUILD_ATTEMPTS=str(attempts))
        for name, value in env.env.items():  # the API reads the factory's settings from os.environ
            patch.setenv(name, value)
        scenario = _Scenario(env, receiver)
        try:
            return scenario.run(kills, attempts, sleep_s, timeout)
        finally:
            scenario.close()


class _Scenario:
    def __init__(self, env: FactoryEnvironment, receiver: HookReceiver):
        settings = Settings.from_env(env.env)
        self.env, self.receiver = env, receiver
        self.app = create_app(settings)
        self.client = self.app.test_client()
        self.store = self.app.extensions["image_factory"].factory.store
        self.workers: list[WorkerProcess] = []
        self.sent = self.failed = 0
        self.problems: list[str] = []

    def run(self, kills: int, attempts: int, sleep_s: int, timeout: float) -> FaultOutcome:
        repo = GitRepo(self.env.git_root, self.env.owner, f"slow-{uuid.uuid4().hex[:8]}")
        files = {"Dockerfile": SLOW_DOCKERFILE.format(seconds=sleep_s, nonce=uuid.uuid4().hex), "message.txt": "x\n"}
        commit = repo.commit(files)
        repo.push("main")
        build = self.push(repo, commit)
        if build is None:
            return self.outcome(0.0)
        killed_at = time.monotonic()
        try:
            self.start_worker()
            for attempt in range(1, kills + 1):
                self.wait_building(build["id"], attempt, timeout)
                time.sleep(1)  # into the RUN step's sleep
                self.workers[-1].kill()
                killed_at = time.monotonic()
                if attempt == 1:
                    self.redeliver_while_stuck(repo, commit, build["id"])
                self.start_worker()
            record = wait(lambda: self.ended(build["id"]), timeout, interval=0.2, what=f"build {build['id']} to end")
            recovered_s = time.monotonic() - killed_at
            self.check_end(record, kills, attempts)
        except WaitTimeout as exc:
            self.problems.append(str(exc))
            recovered_s = time.monotonic() - killed_at
        return self.outcome(recovered_s)

    def push(self, repo: GitRepo, commit: str, what: str = "the push") -> dict | None:
        """One push delivery (a new delivery id, as a redelivery by hand or a re-push gets): the build
        it queued, or None (and a failure) when it queued none."""
        body, headers = delivery(
            self.env.hook_secret,
            push_payload(repo.owner, repo.repo, "main", commit),
            delivery_id=self.env.delivery_id(),
        )
        answer = self.client.post("/hooks/github", data=body, headers=headers)
        self.sent += 1
        found = answer.get_json(silent=True) or {}
        if answer.status_code == 202 and found.get("status") == "queued":
            return found["build"]
        self.failed += 1
        build = found.get("build") or {}
        self.problems.append(
            f"{what} answered {answer.status_code} {found.get('status')} with build {build.get('id')} "
            f"{build.get('status')}"
        )
        return None

    def start_worker(self) -> None:
        n = len(self.workers)
        worker = WorkerProcess(self.env.env, self.env.queue, self.env.root / f"w{n}.log", name=f"w{n}", beat=True)
        self.workers.append(worker.start())

    def wait_building(self, build_id: str, attempt: int, timeout: float) -> None:
        def building() -> bool:
            record = self.store.get(build_id) or {}
            steps = record.get("steps") or [{}]
            return record.get("attempts") == attempt and steps[-1].get("name") == "build"

        wait(building, timeout, interval=0.1, what=f"attempt {attempt} of build {build_id} to reach its build step")

    def redeliver_while_stuck(self, repo: GitRepo, commit: str, build_id: str) -> None:
        """No worker runs now: once the lease lapsed, a push for the commit must queue a build, not
        answer `reused` with the dead one."""
        wait(lambda: not self.store.redis.exists(self.store.key("lease", build_id)), 30, what="the lease to lapse")
        self.push(repo, commit, what="a push while the build's worker was dead")

    def ended(self, build_id: str) -> dict | None:
        record = self.store.get(build_id)
        return record if record and record["status"] in FINISHED else None

    def check_end(self, record: dict, kills: int, attempts: int) -> None:
        if kills < attempts:
            expected, error = BuildStatus.SUCCEEDED, None
        else:
            expected, error = BuildStatus.FAILED, WORKER_DIED % attempts
        if (record["status"], record["error"]) != (expected, error):
            self.problems.append(f"build {record['id']} ended {record['status']} ({record['error']}), not {expected}")
        hook = "success" if expected == BuildStatus.SUCCEEDED else "failed"
        try:
            wait(lambda: [h for h in self.receiver.for_commit(record["commit"]) if h["status"] == hook], 30)
        except WaitTimeout:
            self.problems.append(f"no {hook} builder hook for build {record['id']}")

    def outcome(self, recovered_s: float) -> FaultOutcome:
        unfinished = [r for r in self.store.newest_first() if r["status"] not in FINISHED]  # the private prefix's
        stuck = [f"build {r['id']} {r['status']}" for r in unfinished] + self.problems
        return FaultOutcome(FAULT, self.sent, self.failed, round(recovered_s, 2), stuck)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        client = redis.Redis.from_url(Settings.from_env(self.env.env).redis_url, decode_responses=True)
        try:
            self.env.cleanup(client)
        finally:
            client.close()
