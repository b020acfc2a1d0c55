"""Pipeline steps with durations recorded on the build, and a header line in the build log."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from image_factory.errors import ImageFactoryError
from image_factory.states import BuildStatus
from totem.logs import redact


class StepFailed(ImageFactoryError, RuntimeError):
    def __init__(self, step: str, error: str):
        super().__init__(f"{step}: {error}")
        self.step = step


class StepRecorder:
    def __init__(self, save: Callable[[list[dict[str, Any]]], None], say: Callable[[str], None]):
        self.steps: list[dict[str, Any]] = []
        self._save = save
        self._say = say

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one step; any exception inside marks it failed and is raised again as StepFailed."""
        entry: dict[str, Any] = {
            "name": name,
            "status": BuildStatus.RUNNING,
            "started_at": time.time(),
            "finished_at": None,
            "duration_s": None,
            "error": None,
        }
        self.steps.append(entry)
        self._save(self.steps)
        self._say(f"==> {name}")
        started = time.monotonic()
        try:
            yield
        except Exception as exc:  # every failure of a step becomes a failed build, never a crash
            error = redact(str(exc) or type(exc).__name__)
            self._end(entry, started, BuildStatus.FAILED, error)
            self._say(f"!!! {name} failed: {error}")
            raise StepFailed(name, error) from None
        self._end(entry, started, BuildStatus.SUCCEEDED, None)

    def _end(self, entry: dict[str, Any], started: float, status: str, error: str | None) -> None:
        entry.update(
            status=status, finished_at=time.time(), duration_s=round(time.monotonic() - started, 3), error=error
        )
        self._save(self.steps)
