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
# KEYS = build, lease, running set; ARGV = token, lease ms, now, build id. The lease is set only when
# free (no live worker holds it), then a queued build, or a running one whose worker died, is taken
_TAKE = f"""
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= '{BuildStatus.QUEUED}' and status ~= '{BuildStatus.RUNNING}' then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('HSET', KEYS[1], 'status', '{BuildStatus.RUNNING}', 'started_at', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"""
# KEYS = lease; ARGV = token, lease ms: kept while ours, taken back when it lapsed (a Redis blip)
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
# KEYS = build, lease, running set; ARGV = build id, attempts allowed (0: no limit), now, record TTL,
# error format. A running build without a lease lost its worker: queued again, or failed after its attempts
_REVIVE = f"""
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
redis.call('SREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'status') ~= '{BuildStatus.RUNNING}' then return false end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts')) or 0
local limit = tonumber(ARGV[2])
if limit > 0 and attempts >= limit then
  local reason = string.format(ARGV[5], attempts)
  redis.call('HSET', KEYS[1], 'status', '{BuildStatus.FAILED}', 'finished_at', ARGV[3], 'error', reason)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return '{BuildStatus.FAILED}'
end
redis.call('HSET', KEYS[1], 'status', '{BuildStatus.QUEUED}')
return '{BuildStatus.QUEUED}'
"""
WORKER_DIED = "the worker building it died %d times"  # the error of a build whose attempts all died


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
        self._take = redis_client.register_script(_TAKE)
        self._renew = redis_client.register_script(_RENEW)
        self._release = redis_client.register_script(_RELEASE)
        self._revive = redis_client.register_script(_REVIVE)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _index_keys(self, owner: str, repo: str) -> tuple[str, str]:
        return self.key("builds"), self.key("builds", f"{owner}/{repo}")

    def create(self, git: dict[str, str], trigger: str, forced: bool = False) -> dict[str, Any]:
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
            "attempts": 0,  # how many times a worker took it
            "forced": forced,  # asked with `force`: built again, never reusing an earlier image
            "tree": None,  # the commit's git tree, once checked out
            "reused_from": None,  # the earlier build whose image (same tree) this one tagged instead of building
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
        pipe = self.redis.pipeline()
        pipe.hset(
            self.key("build", build_id), mapping=_encode({"status": status, "finished_at": time.time(), **fields})
        )
        pipe.expire(self.key("build", build_id), RECORD_TTL)
        pipe.srem(self.key("running"), build_id)
        pipe.execute()

    def _lease_keys(self, build_id: str) -> list[str]:
        return [self.key("build", build_id), self.key("lease", build_id), self.key("running")]

    def take(self, build_id: str, token: str, lease_seconds: float) -> int:
        """Claim the build for `lease_seconds`: its attempt number, or 0 when it is not to be built
        (finished, unknown, or another worker's lease is live)."""
        args = [token, _ms(lease_seconds), time.time(), build_id]
        return int(self._take(keys=self._lease_keys(build_id), args=args))

    def renew(self, build_id: str, token: str, lease_seconds: float) -> bool:
        """Extend our lease; False when another worker holds it now."""
        return bool(self._renew(keys=[self.key("lease", build_id)], args=[token, _ms(lease_seconds)]))

    def release(self, build_id: str, token: str) -> None:
        self._release(keys=[self.key("lease", build_id)], args=[token])

    def running_ids(self) -> list[str]:
        """Builds a worker took and has not finished (live or dead)."""
        return sorted(self.redis.smembers(self.key("running")))

    def revive(self, build_id: str, attempts: int = 0) -> str | None:
        """A running build whose lease lapsed (its worker died) is queued again, or failed once it had
        `attempts` (0: no limit); returns that new status, None for any other build."""
        args = [build_id, attempts, time.time(), RECORD_TTL, WORKER_DIED]
        return self._revive(keys=self._lease_keys(build_id), args=args)

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
    for name in ("image", "error", "superseded_by", "tree", "reused_from"):
        record[name] = raw.get(name) or None
    record["forced"] = raw.get("forced") == "True"
    record["attempts"] = int(raw.get("attempts") or 0)
    return record


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
