"""Build records in Redis: one hash per build, indexes for listing, atomic status changes."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from image_factory.states import BuildStatus

_JSON_FIELDS = ("steps", "images")
RECORD_TTL = 30 * 24 * 3600  # finished builds are forgotten after a month

# status compare-and-set: ARGV = expected statuses (comma separated), new status, then field/value pairs
_TRANSITION = """
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return 0 end
for expected in string.gmatch(ARGV[1], '[^,]+') do
  if current == expected then
    redis.call('HSET', KEYS[1], 'status', ARGV[2], unpack(ARGV, 3))
    return 1
  end
end
return 0
"""


def new_build_id() -> str:
    return f"b{time.time_ns() // 1000:x}{uuid.uuid4().hex[:8]}"


BUILD_ID_PATTERN = r"^b[0-9a-f]{9,39}$"  # what new_build_id makes, with room; published in the OpenAPI document
_BUILD_ID = re.compile(BUILD_ID_PATTERN)


def is_build_id(value: str) -> bool:
    return _BUILD_ID.fullmatch(value) is not None


class BuildStore:
    def __init__(self, redis_client, prefix: str):
        self.redis = redis_client
        self.prefix = prefix
        self._transition = redis_client.register_script(_TRANSITION)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _index_keys(self, owner: str, repo: str) -> tuple[str, str]:
        return self.key("builds"), self.key("builds", f"{owner}/{repo}")

    def create(self, git: dict[str, str], trigger: str) -> dict[str, Any]:
        now = time.time()
        record: dict[str, Any] = {
            "id": new_build_id(),
            "owner": git["owner"],
            "repo": git["repo"],
            "ref": git["ref"],
            "commit": git["commit"],
            "status": BuildStatus.QUEUED,
            "trigger": trigger,
            "created_at": now,
            "started_at": None,
            "finished_at": None,
            "image": None,
            "images": [],
            "error": None,
            "steps": [],
            "superseded_by": None,
        }
        encoded = _encode(record)
        pipe = self.redis.pipeline()
        pipe.hset(self.key("build", record["id"]), mapping=encoded)
        for index in self._index_keys(git["owner"], git["repo"]):
            pipe.zadd(index, {record["id"]: now})
        pipe.execute()
        return _decode(encoded)  # exactly what get() answers from now on (null, not "", for unset fields)

    def get(self, build_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(self.key("build", build_id))
        return _decode(raw) if raw else None

    def update(self, build_id: str, **fields: Any) -> None:
        self.redis.hset(self.key("build", build_id), mapping=_encode(fields))

    def transition(self, build_id: str, expected: tuple[str, ...], status: str, **fields: Any) -> bool:
        """Set `status` (and fields) only when the current status is one of `expected`."""
        pairs = [item for pair in _encode(fields).items() for item in pair]
        return bool(self._transition(keys=[self.key("build", build_id)], args=[",".join(expected), status, *pairs]))

    def finish(self, build_id: str, status: str, **fields: Any) -> None:
        self.update(build_id, status=status, finished_at=time.time(), **fields)
        self.redis.expire(self.key("build", build_id), RECORD_TTL)

    def newest_first(self, owner: str | None = None, repo: str | None = None, chunk: int = 200) -> Iterator[dict]:
        """Records newest first (per repo when owner and repo are given); forgotten ones are dropped."""
        index = self._index_keys(owner, repo)[1] if owner and repo else self.key("builds")
        start = 0
        while True:
            ids = self.redis.zrevrange(index, start, start + chunk - 1)
            if not ids:
                return
            pipe = self.redis.pipeline()
            for build_id in ids:
                pipe.hgetall(self.key("build", build_id))
            forgotten = 0
            for build_id, raw in zip(ids, pipe.execute(), strict=True):
                if raw:
                    yield _decode(raw)
                else:
                    forgotten += self.redis.zrem(index, build_id)
            start += len(ids) - forgotten


def _encode(fields: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if k in _JSON_FIELDS else ("" if v is None else str(v)) for k, v in fields.items()}


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = dict(raw)
    for name in _JSON_FIELDS:
        record[name] = json.loads(raw.get(name) or "[]")
    for name in ("created_at", "started_at", "finished_at"):
        record[name] = float(raw[name]) if raw.get(name) else None
    for name in ("image", "error", "superseded_by"):
        record[name] = raw.get(name) or None
    return record
