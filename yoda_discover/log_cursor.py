"""Where the log shipper is in each container's output: the Docker timestamp of the last line it
sent, per container and stream, kept in memory and written to a small file so a restarted shipper
resumes there (files: `<state dir>/<container id>.<stream>`).

A file is rewritten at most every WRITE_EVERY seconds per stream (and when a stream ends or the
shipper stops): after a crash the lines of that last second are sent again, never skipped.
Docker timestamps are UTC, RFC 3339 with nine fraction digits: as text they sort in time order.
"""

from __future__ import annotations

import calendar
import re
import threading
import time
from pathlib import Path

WRITE_EVERY = 1.0
_STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
_ID = re.compile(r"^[0-9a-f]{12,64}$")


def is_stamp(text: bytes) -> bool:
    return bool(_STAMP.match(text))


def seconds(stamp: str) -> float:
    """The Unix time of a Docker timestamp (for the logs API's `since`)."""
    whole = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    return whole + int(stamp[20:29]) / 1e9


class Cursors:
    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], str] = {}
        self._written: dict[tuple[str, str], float] = {}

    def _path(self, container_id: str, stream: str) -> Path:
        if not _ID.match(container_id) or stream not in ("stdout", "stderr"):
            raise ValueError(f"not a container id and stream: {container_id!r} {stream!r}")
        return self.folder / f"{container_id}.{stream}"

    def get(self, container_id: str, stream: str) -> str:
        """The last timestamp sent; "" when nothing was."""
        key = (container_id, stream)
        with self._lock:
            if key in self._kept:
                return self._kept[key]
        try:
            found = self._path(container_id, stream).read_text().strip()
        except OSError:
            found = ""
        found = found if is_stamp(found.encode()) else ""
        with self._lock:
            return self._kept.setdefault(key, found)

    def advance(self, container_id: str, stream: str, stamp: str) -> None:
        key = (container_id, stream)
        with self._lock:
            self._kept[key] = stamp
            due = time.monotonic() - self._written.get(key, 0.0) >= WRITE_EVERY
        if due:
            self.write(container_id, stream)

    def write(self, container_id: str, stream: str) -> None:
        key = (container_id, stream)
        with self._lock:
            stamp = self._kept.get(key)
            self._written[key] = time.monotonic()
        if not stamp:
            return
        path = self._path(container_id, stream)
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(stamp + "\n")
        partial.replace(path)  # atomic: a crash leaves the old cursor or the new one

    def write_all(self) -> None:
        with self._lock:
            keys = list(self._kept)
        for container_id, stream in keys:
            self.write(container_id, stream)

    def forget(self, container_id: str) -> None:
        """The container is gone: its cursors too."""
        with self._lock:
            for key in [k for k in self._kept if k[0] == container_id]:
                self._kept.pop(key, None)
                self._written.pop(key, None)
        for stream in ("stdout", "stderr"):
            self._path(container_id, stream).unlink(missing_ok=True)

    def known(self) -> set[str]:
        """The containers that have a cursor file."""
        return {p.name.split(".", 1)[0] for p in self.folder.iterdir() if p.suffix in (".stdout", ".stderr")}
