"""Frozen branches: a deleted branch ignores late hooks for a while (Redis key with expiry)."""

from __future__ import annotations

from orchestrator.runtime import Runtime


def freeze(rt: Runtime, app: str) -> None:
    rt.redis.set(rt.key("frozen", app), "1", ex=rt.options.freeze_ttl)


def unfreeze(rt: Runtime, app: str) -> bool:
    return bool(rt.redis.delete(rt.key("frozen", app)))


def is_frozen(rt: Runtime, app: str) -> bool:
    return bool(rt.redis.exists(rt.key("frozen", app)))
