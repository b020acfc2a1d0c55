"""The e2e tests' handle on one `totem demo` run in a sandbox: push changes, follow them, clean up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import docker
import redis

from totem.contracts.labels import APP, CLUSTER, selector
from totem.settings import Settings
from totem.store import connect
from totem_demo import follow, layout, sample_repo, sandbox
from totem_demo.layout import DemoHome
from totem_demo.settings import DemoSettings

REDIS_DB = 9  # belongs to the e2e tests: flushed afterwards (bench/pipeline.py uses 10)
LIVE_TIMEOUT = 240.0  # a bound on one push reaching live, not a timing assertion


def _answering(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


@dataclass
class DemoRun:
    home_dir: Path
    redis_db: int = REDIS_DB
    env: dict[str, str] = field(init=False)
    commits: list[str] = field(default_factory=list)
    first: subprocess.CompletedProcess | None = None  # the `totem demo` run that set it all up

    def __post_init__(self):
        self.env = {**os.environ, **sandbox.environment(self.home_dir, self.redis_db, uuid.uuid4().hex[:8])}
        self.settings = Settings.from_env(self.env)
        self.home = DemoHome.of(self.settings)
        self.demo = DemoSettings.from_env(self.env)

    def command(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "totem_demo", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    @property
    def work(self) -> Path:
        return self.home.work_tree()

    def push(self, ref: str, version: str, changes: dict[str, str] | None = None) -> str:
        """The sample app with VERSION = `version` and `changes`, committed and pushed to `ref`."""
        sample_repo.sync(self.work, sample_repo.example_dir(), {"VERSION": f"{version}\n", **(changes or {})})
        commit = sample_repo.commit_all(self.work, f"version {version}")
        assert commit, "nothing changed"
        self.commits.append(commit)
        sample_repo.push(self.work, ref)
        return commit

    def delete(self, ref: str) -> None:
        sample_repo.push(self.work, ref, delete=True)

    def follow(self, ref: str, commit: str, host: str, expected: str) -> follow.Outcome:
        follower = follow.Follower(self.settings, layout.OWNER, layout.REPO, ref, commit, self.demo.proxy_http)
        return follower.wait(host, expected, LIVE_TIMEOUT)

    def served(self, host: str) -> tuple[int, str]:
        return follow.page(host, self.demo.proxy_http)

    def addresses_in_use(self) -> list[str]:
        """Which of this run's own service and proxy addresses still answer."""
        urls = [self.env[name].split("//", 1)[1] for name in sandbox.SERVICE_URLS]
        return [a for a in urls + [self.env[name] for name in sandbox.DEMO_ADDRESSES] if _answering(a)]

    def app_containers(self, app: str | None = None) -> list:
        client = docker.DockerClient(base_url=self.settings.docker_host)
        try:
            labels = [selector(CLUSTER, self.settings.cluster)] + ([selector(APP, app)] if app else [])
            return client.containers.list(all=True, filters={"label": labels})
        finally:
            client.close()

    def down(self) -> subprocess.CompletedProcess:
        """`totem demo --down`, remembering first every commit pushed (their images go in cleanup)."""
        if (self.work / ".git").exists():
            self.commits += sample_repo.git(self.work, "rev-list", "--all").split()
        return self.command("--down", timeout=300)

    def cleanup(self) -> None:
        """Everything the run left besides processes: containers, images, etcd keys, its Redis database."""
        client = docker.DockerClient(base_url=self.settings.docker_host)
        try:
            for container in client.containers.list(
                all=True, filters={"label": selector(CLUSTER, self.settings.cluster)}
            ):
                container.remove(force=True)
            for commit in set(self.commits):
                for image in client.images.list(filters={"label": f"totem.build.commit={commit}"}):
                    for tag in image.tags:
                        try:
                            client.images.remove(tag, noprune=False)
                        except docker.errors.APIError:
                            pass
        finally:
            client.close()
        store = connect(self.settings.etcd_url)
        for prefix in sandbox.etcd_prefixes(self.env):
            store.delete_prefix(prefix)
        redis.Redis.from_url(self.settings.redis_url).flushdb()
