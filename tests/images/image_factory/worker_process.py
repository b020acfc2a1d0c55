"""The image factory Celery worker as a real subprocess, stopped (and its children) within bounds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from totem.waiting import wait


class WorkerProcess:
    def __init__(
        self,
        env: dict[str, str],
        queue: str,
        log_path: Path,
        concurrency: int = 2,
        name: str = "w1",
        beat: bool = False,
    ):
        self.env, self.queue, self.log_path = env, queue, log_path
        self.concurrency, self.name, self.beat = concurrency, name, beat
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        celery = Path(sys.executable).with_name("celery")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "image_factory.worker",
                "worker",
                "-Q",
                self.queue,
                "--concurrency",
                str(self.concurrency),
                "--hostname",
                f"{self.name}@{self.queue}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                *self._beat_args(),
            ],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        wait(self._ready, timeout=60, interval=0.2)
        return self

    def _beat_args(self) -> list[str]:
        """The embedded beat (cleanup, sweep), its schedule file next to the log."""
        return ["-B", "-s", str(self.log_path.with_suffix(".beat-schedule"))] if self.beat else []

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited: {self.log_path.read_text()[-2000:]}")
        return b"ready." in self.log_path.read_bytes()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.process:
            try:  # pool children left behind by a killed parent
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process = None
        self._log.close()

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (pool children and beat included): a crash."""
        if self.process:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.stop()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
