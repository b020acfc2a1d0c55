"""Tokens in Redis, stored only as their SHA-256: `<prefix>:token:<sha256>` holds the record (expiring
with the token), `<prefix>:tokens` maps each name to its hash. Every check reads Redis, so a revoked
token is refused by every worker and service at once."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from typing import cast

import redis

from totem.access.principal import BOOTSTRAP, Principal
from totem.access.roles import ROLES
from totem.errors import TotemError

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
PREFIX = "totem_"  # every issued token starts so, which makes a leaked one easy to find in a scan
MAX_TTL = 10 * 365 * 86400


class TokenError(TotemError, ValueError):
    """A token cannot be created as asked; the message says which field is wrong."""


class TokenExists(TokenError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _globs(values, what: str) -> tuple[str, ...]:
    found = tuple(values or ("*",))
    for value in found:
        if not isinstance(value, str) or not 0 < len(value) <= 200 or not value.isprintable() or " " in value:
            raise TokenError(f"{what} must be non-empty globs without spaces (got {value!r})")
    return found


class TokenStore:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis, self.prefix = client, prefix

    def _record_key(self, sha: str) -> str:
        return f"{self.prefix}:token:{sha}"

    @property
    def _names(self) -> str:
        return f"{self.prefix}:tokens"

    def create(self, name: str, role: str, scopes=None, envs=None, ttl: int | None = None, by: str = "") -> tuple:
        """(token, record): the token is returned here once and never stored in clear."""
        if not isinstance(name, str) or not NAME.fullmatch(name) or name == BOOTSTRAP:
            raise TokenError("name must be 1-63 lowercase letters, digits, '.', '_' or '-' (not 'bootstrap')")
        if role not in ROLES:
            raise TokenError(f"role must be one of {', '.join(ROLES)}")
        if ttl is not None and not (isinstance(ttl, int) and 0 < ttl <= MAX_TTL):
            raise TokenError(f"ttl must be 1 to {MAX_TTL} seconds")
        now = time.time()
        record = {
            "name": name,
            "role": role,
            "scopes": list(_globs(scopes, "scopes")),
            "envs": list(_globs(envs, "envs")),
            "created": now,
            "expires": now + ttl if ttl else None,
            "created-by": by,
        }
        token = PREFIX + secrets.token_urlsafe(32)
        sha = digest(token)
        old = cast("str | None", self.redis.hget(self._names, name))  # decode_responses=True
        if old is not None and self.redis.exists(self._record_key(old)):
            raise TokenExists(f"a token named {name} exists; revoke it first")
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self._record_key(sha), json.dumps(record), ex=ttl)
        pipe.hset(self._names, name, sha)
        pipe.execute()
        return token, record

    def lookup(self, token: str) -> Principal | None:
        raw = self.redis.get(self._record_key(digest(token)))
        if raw is None:
            return None
        record = json.loads(raw)
        if record.get("expires") and record["expires"] <= time.time():
            return None
        return Principal(record["name"], record["role"], tuple(record["scopes"]), tuple(record["envs"]))

    def list(self) -> list[dict]:
        """Every token (never its value), with `expired` for those past their ttl."""
        found = []
        for name, sha in sorted(cast(dict[str, str], self.redis.hgetall(self._names)).items()):
            raw = self.redis.get(self._record_key(sha))
            found.append(json.loads(raw) if raw else {"name": name, "expired": True})
        return found

    def revoke(self, name: str) -> bool:
        if not NAME.fullmatch(name):
            return False  # no token has such a name (and Redis takes no lone surrogates)
        sha = cast("str | None", self.redis.hget(self._names, name))
        if sha is None:
            return False
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self._record_key(sha))
        pipe.hdel(self._names, name)
        pipe.execute()
        return True
