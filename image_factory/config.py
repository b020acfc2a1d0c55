"""Image factory settings beyond the shared ones (all read from the environment).

Registry credentials live here and nowhere else: the password is registered as a
secret, so it is masked in every log record and build log line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from totem import logs
from totem.settings import Settings, SettingsError, env_float, env_int


@dataclass(frozen=True)
class FactoryConfig:
    key_prefix: str = "totem:image_factory"
    queue: str = "image_factory"
    registry_username: str | None = None
    registry_password: str | None = field(default=None, repr=False)
    workdir: Path = Path("~/.totem/image_factory").expanduser()
    log_bucket: str | None = None
    live_log_lines: int = 5000
    keep_per_repo: int = 5
    concurrency: int = 2
    recent_seconds: int = 3600
    checkout_timeout: int = 300
    build_timeout: int = 1200
    push_timeout: int = 600
    hook_attempts: int = 5
    hook_backoff: float = 1.0
    cleanup_interval: int = 3600

    @property
    def lease_seconds(self) -> int:
        """How long a running build may hold its claim before another worker may retake it."""
        return self.checkout_timeout + self.build_timeout + self.push_timeout + 120

    @classmethod
    def from_env(cls, settings: Settings, environ=None) -> "FactoryConfig":
        env = os.environ if environ is None else environ
        config = cls(
            key_prefix=env.get("TOTEM_IMAGE_FACTORY_PREFIX") or cls.key_prefix,
            queue=env.get("TOTEM_IMAGE_FACTORY_QUEUE") or cls.queue,
            registry_username=env.get("TOTEM_REGISTRY_USERNAME") or None,
            registry_password=env.get("TOTEM_REGISTRY_PASSWORD") or None,
            workdir=Path(env.get("TOTEM_IMAGE_FACTORY_WORKDIR") or settings.home / "image_factory").expanduser(),
            log_bucket=env.get("TOTEM_BUILD_LOG_BUCKET") or None,
            live_log_lines=env_int(env, "TOTEM_BUILD_LOG_LINES", cls.live_log_lines, minimum=0),
            keep_per_repo=env_int(env, "TOTEM_IMAGE_FACTORY_KEEP", cls.keep_per_repo, minimum=0),
            concurrency=max(1, env_int(env, "TOTEM_IMAGE_FACTORY_CONCURRENCY", cls.concurrency, minimum=0)),
            recent_seconds=env_int(env, "TOTEM_IMAGE_FACTORY_RECENT_SECONDS", cls.recent_seconds, minimum=0),
            checkout_timeout=env_int(env, "TOTEM_CHECKOUT_TIMEOUT", cls.checkout_timeout, minimum=0),
            build_timeout=env_int(env, "TOTEM_BUILD_TIMEOUT", cls.build_timeout, minimum=0),
            push_timeout=env_int(env, "TOTEM_PUSH_TIMEOUT", cls.push_timeout, minimum=0),
            hook_attempts=max(1, env_int(env, "TOTEM_HOOK_ATTEMPTS", cls.hook_attempts, minimum=0)),
            hook_backoff=env_float(env, "TOTEM_HOOK_BACKOFF", cls.hook_backoff),
            cleanup_interval=max(60, env_int(env, "TOTEM_IMAGE_FACTORY_CLEANUP_INTERVAL", cls.cleanup_interval, minimum=0)),
        )
        logs.register_secret(config.registry_password)
        if config.registry_password and not config.registry_username:
            raise SettingsError("TOTEM_REGISTRY_PASSWORD is set without TOTEM_REGISTRY_USERNAME")
        return config

    def registry_auth(self) -> dict | None:
        if not self.registry_username:
            return None
        return {"username": self.registry_username, "password": self.registry_password or ""}
