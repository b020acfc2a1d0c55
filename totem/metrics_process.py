"""prometheus_client's multiprocess mode for a process that forks its workers (gunicorn's master,
a Celery worker's main process): a fresh directory of its own, set before any fork counts anything,
emptied of a dead fork's live gauges, removed at exit.

prometheus_client picks how values are kept (in memory or in that directory) when it is imported,
from PROMETHEUS_MULTIPROC_DIR; `begin` sets the variable and, when prometheus_client is imported
already, switches it over (no value exists yet: every Totem metric has labels, totem.metrics).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def begin(service: str) -> Path:
    """A fresh directory for this process and its forks, named in the environment."""
    directory = Path(tempfile.mkdtemp(prefix=f"totem-metrics-{service}-"))
    os.environ[ENV] = str(directory)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return directory


def fork_exited(pid: int) -> None:
    """A fork ended: its live gauges stop counting (its counters stay in the sums)."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def end(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    if os.environ.get(ENV) == str(directory):
        del os.environ[ENV]
