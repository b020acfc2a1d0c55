"""Build log lines in a capped Redis stream (for live viewing) and in a local file (the full log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from totem.logs import redact

LIVE_TTL = 7 * 24 * 3600  # the live copy outlives the build by a week; the archive keeps the rest


class LiveLogWriter:
    def __init__(self, redis_client, stream_key: str, path: Path, max_lines: int):
        self.redis = redis_client
        self.stream_key = stream_key
        self.max_lines = max_lines
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def write(self, text: str) -> None:
        for line in redact(text).rstrip("\n").split("\n"):
            line = line.rstrip("\r")
            self._file.write(line + "\n")
            self.redis.xadd(self.stream_key, {"line": line}, maxlen=self.max_lines, approximate=True)
        self._file.flush()

    def close(self, status: str) -> Path:
        """Mark the end of the live log (followers stop) and close the full log file."""
        self._file.close()
        self.redis.xadd(self.stream_key, {"eof": status}, maxlen=self.max_lines, approximate=True)
        self.redis.expire(self.stream_key, LIVE_TTL)
        return self.path


def read_live(
    redis_client, stream_key: str, after: str = "0-0", block_ms: int | None = None, count: int = 500
) -> Iterator[tuple[str, dict[str, str]]]:
    """Entries after `after`; with `block_ms`, wait that long for the first new one."""
    if block_ms is None:
        start = "(" + after if after != "0-0" else "-"
        yield from redis_client.xrange(stream_key, min=start, count=count)
        return
    for _stream, entries in redis_client.xread({stream_key: after}, count=count, block=block_ms) or []:
        yield from entries


def live_text(redis_client, stream_key: str) -> str:
    lines: list[str] = []
    after = "0-0"
    while True:
        entries = list(read_live(redis_client, stream_key, after))
        if not entries:
            return "".join(lines)
        for entry_id, fields in entries:
            after = entry_id
            if "line" in fields:
                lines.append(fields["line"] + "\n")
