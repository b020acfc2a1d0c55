"""Typed settings read from the environment (names fixed by the design brief)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says what to set."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def env_int(env, name: str, default: int, minimum: int | None = None) -> int:
    """An integer setting (blank = default); a clear SettingsError naming the variable otherwise."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        number = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number (got {raw!r})") from None
    if minimum is not None and number < minimum:
        raise SettingsError(f"{name} must be at least {minimum} (got {number})")
    return number


def env_float(env, name: str, default: float) -> float:
    """A number setting, e.g. seconds (blank = default)."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number (got {raw!r})") from None


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    etcd_url: str = "etcd://127.0.0.1:2379"
    redis_url: str = "redis://127.0.0.1:6379/0"
    env: str = "local"
    cluster: str = "local"
    hook_secret: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)
    insecure_dev: bool = False
    registry: str = "127.0.0.1:5000"
    orchestrator_url: str = "http://127.0.0.1:9400"
    deployer_url: str = "http://127.0.0.1:9000"
    image_factory_url: str = "http://127.0.0.1:9300"
    yoda_base: str = "/yoda"
    git_url_template: str = "https://github.com/{owner}/{repo}.git"
    scheduler: str = "docker"
    config_providers: tuple[str, ...] = ("repo", "etcd", "default")
    docker_host: str = "unix:///var/run/docker.sock"
    aws_endpoint_url: str | None = None
    home: Path = Path("~/.totem").expanduser()
    log_format: str = "json"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        get = env.get
        settings = cls(
            etcd_url=get("TOTEM_ETCD_URL", cls.etcd_url),
            redis_url=get("TOTEM_REDIS_URL", cls.redis_url),
            env=get("TOTEM_ENV", cls.env),
            cluster=get("TOTEM_CLUSTER", cls.cluster),
            hook_secret=get("TOTEM_HOOK_SECRET") or None,
            api_token=get("TOTEM_API_TOKEN") or None,
            insecure_dev=_flag(get("TOTEM_INSECURE_DEV")),
            registry=get("TOTEM_REGISTRY", cls.registry),
            orchestrator_url=get("TOTEM_ORCHESTRATOR_URL", cls.orchestrator_url),
            deployer_url=get("TOTEM_DEPLOYER_URL", cls.deployer_url),
            image_factory_url=get("TOTEM_IMAGE_FACTORY_URL", cls.image_factory_url),
            yoda_base="/" + get("YODA_BASE", cls.yoda_base).strip("/"),
            git_url_template=get("TOTEM_GIT_URL_TEMPLATE", cls.git_url_template),
            scheduler=get("TOTEM_SCHEDULER", cls.scheduler),
            config_providers=_list(get("TOTEM_CONFIG_PROVIDERS", ",".join(cls.config_providers))),
            docker_host=get("DOCKER_HOST", cls.docker_host),
            aws_endpoint_url=get("AWS_ENDPOINT_URL") or None,
            home=Path(get("TOTEM_HOME", "~/.totem")).expanduser(),
            log_format=get("TOTEM_LOG_FORMAT", cls.log_format),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        scheme = urlsplit(self.etcd_url).scheme
        if scheme not in {"etcd", "etcd2", "http", "https"}:
            raise SettingsError(
                f"TOTEM_ETCD_URL must start with etcd:// or etcd2:// (got {self.etcd_url!r})"
            )
        if urlsplit(self.redis_url).scheme not in {"redis", "rediss", "unix"}:
            raise SettingsError(f"TOTEM_REDIS_URL must be a redis:// URL (got {self.redis_url!r})")
        if self.scheduler not in {"docker", "swarm", "fleet"}:
            raise SettingsError(
                f"TOTEM_SCHEDULER must be docker, swarm or fleet (got {self.scheduler!r})"
            )
        if "{owner}" not in self.git_url_template or "{repo}" not in self.git_url_template:
            raise SettingsError("TOTEM_GIT_URL_TEMPLATE must contain {owner} and {repo}")
        if self.log_format not in {"json", "kv"}:
            raise SettingsError("TOTEM_LOG_FORMAT must be json or kv")

    def require_hook_secret(self, service: str) -> str | None:
        """A service that receives hooks may not run without a secret (unless insecure dev)."""
        if self.hook_secret:
            return self.hook_secret
        if self.insecure_dev:
            return None
        raise SettingsError(
            f"{service} receives hooks: set TOTEM_HOOK_SECRET (or TOTEM_INSECURE_DEV=1 for local development)"
        )


def load_or_exit(service: str | None = None, receives_hooks: bool = False) -> Settings:
    """Settings for a process entry point: print one line and exit 2 when they are unusable."""
    try:
        settings = Settings.from_env()
        if receives_hooks:
            settings.require_hook_secret(service or "this service")
        return settings
    except SettingsError as exc:
        print(f"{service or 'totem'}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
