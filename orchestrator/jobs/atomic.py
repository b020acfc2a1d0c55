"""Compare-and-write in one Redis round trip (a Lua script, run by EVALSHA).

A change reads its keys (one round trip), decides in Python, then sends its writes together with
the SHA-1 of what each key held when read: the script writes nothing and answers None when any key
changed meanwhile (the caller reads again and retries), else runs every write and answers their
replies. The same guarantee as WATCH/MULTI/EXEC, in two round trips instead of five or more.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import redis

# KEYS: the keys the change read; ARGV[1..#KEYS]: the SHA-1 of what each held ('' for nothing);
# ARGV[#KEYS + 1]: the writes as JSON, [[mode, name, arg...], ...] (one argument to send, rather than
# hundreds for the client to encode one by one). mode: 'must' (its failure is the step's), 'best'
# (best effort: a failure answers nil), 'after' (only when the write before it answered, e.g. an
# LPUSH after a SET NX that set its key; else skipped, answering nil).
WRITE = """
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if (value and redis.sha1hex(value) or '') ~= ARGV[i] then return false end
end
local replies = {}
for i, command in ipairs(cjson.decode(ARGV[#KEYS + 1])) do
  local mode, reply = command[1], false
  if mode == 'best' then
    reply = redis.pcall(unpack(command, 2))
    if type(reply) == 'table' and reply.err then reply = false end
  elseif mode == 'must' or (mode == 'after' and replies[i - 1]) then
    reply = redis.call(unpack(command, 2))
  end
  replies[i] = reply
end
return replies
"""

# KEYS[1]: an app's current-job pointer; ARGV[1]: the job keys' prefix. {} or {id, the job or nil}.
READ_CURRENT = """
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return {id, redis.call('GET', ARGV[1] .. id)}
"""

_SHAS = {source: hashlib.sha1(source.encode()).hexdigest() for source in (WRITE, READ_CURRENT)}


def digest(value: str | None) -> str:
    """What the script compares a key's value with: '' for no value."""
    return hashlib.sha1(value.encode()).hexdigest() if value is not None else ""


@dataclass
class Batch:
    """Writes for one atomic step, run in order. A best-effort write's failure is ignored (events:
    a lost event never fails the work it describes); any other failure is the step's."""

    commands: list[list[Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.commands)

    def add(self, *command: Any, best_effort: bool = False, after: bool = False) -> None:
        """A write; `best_effort`: its failure is ignored; `after`: run only when the write before it
        answered (not nil), else skipped."""
        mode = "after" if after else "best" if best_effort else "must"
        # arguments as text here: the script's JSON decoder would turn numbers into doubles
        self.commands.append([mode, *(arg if isinstance(arg, str) else str(arg) for arg in command)])


def run(client: redis.Redis, source: str, keys: list[str], args: list[Any]) -> Any:
    """Run one of this module's scripts (loading it first on a Redis that does not know it)."""
    try:
        return client.evalsha(_SHAS[source], len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:
        client.script_load(source)
        return client.evalsha(_SHAS[source], len(keys), *keys, *args)


def write(client: redis.Redis, batch: Batch, read: dict[str, str | None] | None = None) -> list[Any] | None:
    """Run `batch` if every key of `read` still holds the value read (None: nothing); the replies,
    or None, having written nothing, when one changed."""
    read = read or {}
    return run(client, WRITE, list(read), [*(digest(value) for value in read.values()), json.dumps(batch.commands)])
