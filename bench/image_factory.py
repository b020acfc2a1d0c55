"""Image factory benchmark: webhook → image in registry latency, and builds per minute.

    python bench/image_factory.py [--rounds 5] [--builds 8]

Runs against the local stack (Redis, Docker, registry on loopback) with its own Celery workers,
API server, bare git repositories and hook receiver; removes what it created. Asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
import requests  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from bench.figures import percentile, record  # noqa: E402
from image_factory.app import create_app  # noqa: E402
from tests.images.image_factory.environment import FactoryEnvironment  # noqa: E402
from tests.images.image_factory.git_repos import DOCKERFILE, GitRepo  # noqa: E402
from tests.images.image_factory.github_push import delivery, push_payload  # noqa: E402
from tests.images.image_factory.hook_receiver import HookReceiver  # noqa: E402
from tests.images.image_factory.worker_process import WorkerProcess  # noqa: E402
from totem.settings import Settings  # noqa: E402
from totem.waiting import WaitTimeout, wait  # noqa: E402

WAIT = 300.0


class Bench:
    def __init__(self, root: Path, receiver: HookReceiver):
        self.env = FactoryEnvironment(root, receiver.url, receiver.secret)
        self.settings = Settings.from_env(self.env.env)
        for name, value in self.env.env.items():
            os.environ[name] = value
        app = create_app(self.settings)
        for name in ("", "werkzeug"):  # request logs would drown the figures
            logging.getLogger(name).setLevel(logging.WARNING)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.http = requests.Session()

    def repo(self) -> GitRepo:
        return GitRepo(self.env.git_root, self.env.owner, f"bench-{uuid.uuid4().hex[:8]}")

    def webhook(self, repo: GitRepo, ref: str, commit: str) -> None:
        body, headers = delivery(
            self.env.hook_secret, push_payload(repo.owner, repo.repo, ref, commit), delivery_id=self.env.delivery_id()
        )
        self.http.post(f"{self.url}/hooks/github", data=body, headers=headers, timeout=30).raise_for_status()

    def wait_in_registry(self, image: str) -> None:
        try:
            wait(lambda: self.env.manifest(image).status_code == 200, WAIT, 0.02, what=f"{image} in the registry")
        except WaitTimeout:
            raise RuntimeError(f"{image} never reached the registry") from None

    def image(self, repo: GitRepo, tag: str) -> str:
        return f"{self.env.registry}/{repo.owner}-{repo.repo}".lower() + f":{tag}"

    def latency(self, rounds: int) -> tuple[list[float], list[float]]:
        first, rebuild = [], []
        for i in range(rounds):
            repo = self.repo()
            commit = repo.commit({"Dockerfile": DOCKERFILE, "message.txt": f"{uuid.uuid4()}\n"})
            repo.push("main")
            started = time.perf_counter()
            self.webhook(repo, "main", commit)
            self.wait_in_registry(self.image(repo, commit))
            first.append(time.perf_counter() - started)
            repo.push(f"rebuild-{i}")  # the same commit on another branch: a rebuild from cache
            started = time.perf_counter()
            self.webhook(repo, f"rebuild-{i}", commit)
            self.wait_in_registry(self.image(repo, f"rebuild-{i}"))
            rebuild.append(time.perf_counter() - started)
        return first, rebuild

    def throughput(self, builds: int) -> float:
        repos = [self.repo() for _ in range(builds)]
        commits = [r.commit({"Dockerfile": DOCKERFILE, "message.txt": f"{uuid.uuid4()}\n"}) for r in repos]
        for repo in repos:
            repo.push("main")
        started = time.perf_counter()
        for repo, commit in zip(repos, commits, strict=True):
            self.webhook(repo, "main", commit)
        for repo, commit in zip(repos, commits, strict=True):
            self.wait_in_registry(self.image(repo, commit))
        return builds / (time.perf_counter() - started) * 60

    def close(self) -> None:
        self.server.shutdown()
        client = redis.Redis.from_url(self.settings.redis_url, decode_responses=True)
        self.env.cleanup(client)
        client.close()


def with_workers(bench: Bench, count: int, action):
    workers = [
        WorkerProcess(
            bench.env.env, bench.env.queue, bench.env.root / f"worker{n}.log", concurrency=1, name=f"bench{n}"
        )
        for n in range(count)
    ]
    try:
        for worker in workers:
            worker.start()
        return action()
    finally:
        for worker in workers:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="latency samples of each kind")
    parser.add_argument("--builds", type=int, default=8, help="builds queued at once for the throughput figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, HookReceiver(f"bench-{uuid.uuid4().hex}") as receiver:
        bench = Bench(Path(tmp), receiver)
        try:
            first, rebuild = with_workers(bench, 2, lambda: bench.latency(args.rounds))
            one = with_workers(bench, 1, lambda: bench.throughput(args.builds))
            two = with_workers(bench, 2, lambda: bench.throughput(args.builds))
        finally:
            bench.close()
    print(f"webhook → image in registry ({args.rounds} rounds, busybox-from-scratch image)")
    print(f"  {'':28}{'median':>10}{'p99':>10}")
    for label, values in (("first build of a commit", first), ("rebuild of unchanged commit", rebuild)):
        print(f"  {label:28}{statistics.median(values):>9.2f}s{percentile(values, 99):>9.2f}s")
        record(f"webhook → image in registry, {label}, median", statistics.median(values), "s")
    print(f"throughput ({args.builds} builds queued at once, worker concurrency 1)")
    print(f"  1 worker : {one:6.1f} builds/min")
    print(f"  2 workers: {two:6.1f} builds/min  (x{two / one:.2f})")
    record("image builds per minute, 2 workers", two, "builds/min")
    print(f"builder hooks received: {len(receiver.hooks)}, rejected signatures: {receiver.rejected}")


if __name__ == "__main__":
    main()
