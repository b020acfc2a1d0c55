"""A Docker Engine of the test's own, run the way the stack runs dockerd (totem_stack/services.py) but
on a socket and data, exec and pid paths under a short temp dir (unix socket paths must fit in 108
bytes): a test may restart it without touching the shared engine. `stop` removes every container it
ran, its processes (by pid) and its directories."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import docker

from totem.settings import Settings
from totem.waiting import WaitAborted, WaitTimeout, wait
from totem_stack import services


class PrivateDocker:
    def __init__(self, live_restore: bool = False):
        self.root = Path(tempfile.mkdtemp(prefix="tpd-", dir="/tmp"))
        self.socket = f"unix://{self.root}/d.sock"
        settings = Settings.from_env({"DOCKER_HOST": self.socket, "TOTEM_HOME": str(self.root)})
        self.service = services.docker(settings, services.StackHome(self.root))
        self.config = {**services.DAEMON_CONFIG, "live-restore": live_restore}
        self.process: subprocess.Popen | None = None
        self.client: docker.DockerClient | None = None

    @property
    def exec_root(self) -> Path:
        return services.docker_exec_root(self.root)

    def start(self) -> PrivateDocker:
        for directory in self.service.dirs:
            directory.mkdir(parents=True, exist_ok=True)
        for path in self.service.files:  # the stack's daemon.json, with this engine's live-restore
            path.write_text(json.dumps(self.config) + "\n")
        self.process = subprocess.Popen(
            self.service.argv,
            stdout=open(self.root / "dockerd.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            client = wait(
                self._answering,
                60,
                0.05,
                abort=lambda: self.process.poll() is not None,
                what="the private dockerd answering",
                ignoring=(Exception,),
            )
        except (WaitAborted, WaitTimeout):
            self.stop()
            raise RuntimeError(f"private dockerd did not start:\n{self.log()}") from None
        if self.client is None:
            self.client = client
        else:  # restarted: callers keep the client they have
            client.close()
        return self

    def _answering(self) -> docker.DockerClient:
        client = docker.DockerClient(base_url=self.socket, timeout=30)  # raises until its socket answers
        client.ping()
        return client

    def restart(self) -> None:
        """SIGTERM dockerd alone (as systemd restarts docker.service), then start it again; with
        live-restore its containerd and containers keep running meanwhile."""
        self._end_dockerd()
        self.start()

    def load(self, source: docker.DockerClient, *tags: str) -> None:
        """`docker save` the images from `source` | `docker load` them here."""
        for tag in tags:
            self.client.images.load(b"".join(source.images.get(tag).save(named=tag)))

    def log(self) -> str:
        return (self.root / "dockerd.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.client is not None:
            try:
                for container in self.client.containers.list(all=True):
                    container.remove(force=True)
            except Exception:  # the engine may already be gone
                pass
            self.client.close()
            self.client = None
        self._end_dockerd()
        self._end_pid(self.exec_root / "containerd" / "containerd.pid")  # a restarted dockerd adopts it
        self._unmount()
        shutil.rmtree(self.root, ignore_errors=True)

    def _end_dockerd(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def _end_pid(self, pidfile: Path) -> None:
        """SIGTERM the process of `pidfile` if it is still this engine's (its command line names our root)."""
        try:
            pid = int(pidfile.read_text().strip())
            if str(self.root) in Path(f"/proc/{pid}/cmdline").read_text():
                os.kill(pid, signal.SIGTERM)
                wait(lambda: not Path(f"/proc/{pid}").exists(), 10, 0.05, what=f"pid {pid} ended")
        except (OSError, ValueError, WaitTimeout):  # no file, the process is gone, or it lingers
            pass

    def _unmount(self) -> None:
        with open("/proc/mounts") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[1].startswith(str(self.root))]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True, timeout=10)
