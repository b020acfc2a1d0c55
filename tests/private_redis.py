"""A Redis of the test's own on a free loopback port, which a fault test may stop and restart (modelled
on tests.support.PrivateEtcd). No persistence: a restart comes back empty, as after a lost node."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import redis

from tests.support import terminate
from totem.net import free_port
from totem.waiting import wait


class PrivateRedis:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, db: int = 0) -> str:
        return f"redis://{self.address}/{db}"

    def start(self) -> PrivateRedis:
        argv = [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir), "--protected-mode", "no"]
        log = open(self.workdir / "redis.log", "ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        log.close()
        wait(self._answers, 20, what=f"the private redis on {self.address}", ignoring=(redis.RedisError,))
        return self

    def _answers(self) -> bool:
        client = redis.Redis.from_url(self.url(), socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def stop(self) -> None:
        if self.process:
            terminate(self.process, 10)
        self.process = None

    def restart(self) -> PrivateRedis:
        self.stop()
        return self.start()
