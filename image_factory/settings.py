"""Image factory settings beyond the shared ones (all read from the environment).

Registry credentials live here and nowhere else: the password is registered as a
secret, so it is masked in every log record and build log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from totem import logs
from totem.settings import Environ, EnvSettings, Settings, SettingsError, nonblank, path, setting


def _under_home(env: Environ) -> Path:
    return Settings.read("home", env) / "image_factory"


@dataclass(frozen=True)
class ImageFactorySettings(EnvSettings):
    key_prefix: str = setting("TOTEM_IMAGE_FACTORY_PREFIX", "totem:image_factory", parse=nonblank())
    queue: str = setting("TOTEM_IMAGE_FACTORY_QUEUE", "image_factory", parse=nonblank())
    registry_username: str | None = setting("TOTEM_REGISTRY_USERNAME", None)
    registry_password: str | None = setting("TOTEM_REGISTRY_PASSWORD", None, secret=True)
    workdir: Path = setting(
        "TOTEM_IMAGE_FACTORY_WORKDIR",
        Path("~/.totem/image_factory").expanduser(),
        parse=nonblank(path),
        default_from=_under_home,
    )  # default $TOTEM_HOME/image_factory
    log_bucket: str | None = setting("TOTEM_BUILD_LOG_BUCKET", None)
    live_log_lines: int = setting("TOTEM_BUILD_LOG_LINES", 5000, minimum=0)
    keep_per_repo: int = setting("TOTEM_IMAGE_FACTORY_KEEP", 5, minimum=0)
    concurrency: int = setting("TOTEM_IMAGE_FACTORY_CONCURRENCY", 2, minimum=0, floor=1)
    recent_seconds: int = setting("TOTEM_IMAGE_FACTORY_RECENT_SECONDS", 3600, minimum=0)
    checkout_timeout: int = setting("TOTEM_CHECKOUT_TIMEOUT", 300, minimum=0)
    build_timeout: int = setting("TOTEM_BUILD_TIMEOUT", 1200, minimum=0)
    push_timeout: int = setting("TOTEM_PUSH_TIMEOUT", 600, minimum=0)
    hook_attempts: int = setting("TOTEM_HOOK_ATTEMPTS", 30, minimum=0, floor=1)  # ~2 min: outlasts a restart
    hook_backoff: float = setting("TOTEM_HOOK_BACKOFF", 0.5)
    cleanup_interval: int = setting("TOTEM_IMAGE_FACTORY_CLEANUP_INTERVAL", 3600, minimum=0, floor=60)
    # followed logs (`GET /builds/<id>/log?follow=1`) at once per API worker process: each holds a
    # thread for as long as it follows, so keep this well under the worker's threads (gunicorn_conf: 8)
    max_followers: int = setting("TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS", 4, minimum=1)
    # a running build's claim, renewed by its worker every quarter of it: a dead worker's build is
    # found by the sweep (every sweep_interval) once the lease lapses, then queued again or failed
    lease_seconds: float = setting("TOTEM_IMAGE_FACTORY_LEASE", 20.0, minimum=1)
    sweep_interval: float = setting("TOTEM_IMAGE_FACTORY_SWEEP_INTERVAL", 15.0, minimum=1)
    build_attempts: int = setting("TOTEM_IMAGE_FACTORY_BUILD_ATTEMPTS", 3, minimum=1)
    # a commit whose git tree an earlier build of the repo built (a revert, a merge of the same
    # files, the same commit on another branch) gets that image tagged and pushed, not built again
    reuse_images: bool = setting("TOTEM_IMAGE_FACTORY_REUSE", True)

    def check(self) -> None:
        logs.register_secret(self.registry_password)  # masked even when the settings are refused below
        if self.registry_password and not self.registry_username:
            raise SettingsError("TOTEM_REGISTRY_PASSWORD is set without TOTEM_REGISTRY_USERNAME")

    def registry_auth(self) -> dict | None:
        if not self.registry_username:
            return None
        return {"username": self.registry_username, "password": self.registry_password or ""}
