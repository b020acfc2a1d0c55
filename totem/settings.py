"""Typed settings read from the environment (variable names are part of Totem's interface).

Every settings class declares each field once, next to its variable:

    @dataclass(frozen=True)
    class DeployerSettings(EnvSettings):
        lock_ttl: int = setting("TOTEM_DEPLOYER_LOCK_TTL", 15)

and `DeployerSettings.from_env()` reads them all. A set variable is converted by the field's
type (or its own `parse`); an unset one leaves the default. Conversions by type:
int and float (blank = default), bool flags (1/true/yes/on), comma lists (`tuple[str, ...]`),
paths (~ expanded), strings as given, optional strings (`str | None`: blank = None).
A converter that returns None means "use the default"; one that raises ValueError("must …")
becomes SettingsError("<VARIABLE> must … (got '<value>')").
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, Union
from urllib.parse import urlsplit

from totem.contracts import services as services_contract
from totem.errors import TotemError
from totem.syslog_url import setting as syslog_setting

Environ = Mapping[str, str]
Parser = Callable[[str], Any]
S = TypeVar("S", bound="EnvSettings")
_VARIABLE = "totem.setting"


class SettingsError(TotemError, ValueError):
    """A setting is missing or malformed; the message says what to set."""


# -- converters: the raw value of a set variable → the field's value (None: the default) --------
def whole(raw: str) -> int | None:
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a whole number") from None


def number(raw: str) -> float | None:
    if raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError("must be a number") from None


def duration(raw: str) -> float | None:
    """Seconds from "90s", "10m", "24h", "365d", "2w" or a bare number of seconds (blank = default)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = raw.strip().lower()
    if not text:
        return None
    count, unit = (text[:-1], text[-1]) if text[-1] in units else (text, "s")
    if not (count.isascii() and count.isdigit() and len(count) <= 9) or int(count) == 0:
        raise ValueError("must be a duration like 90d, 24h or 30m")
    return float(int(count) * units[unit])


def flag(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def comma_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def path(raw: str) -> Path:
    return Path(raw).expanduser()


def key_prefix(raw: str) -> str:
    """An etcd key prefix: one leading "/", no trailing one."""
    return "/" + raw.strip("/")


def base_url(raw: str) -> str:
    """A URL that paths are appended to: no trailing "/"."""
    return raw.rstrip("/")


def nonblank(convert: Parser = str) -> Parser:
    """A blank variable means the default (None for optional fields), not an empty value."""
    return lambda raw: convert(raw) if raw else None


_BY_TYPE: dict[Any, Parser] = {str: str, int: whole, float: number, bool: flag, Path: path, tuple[str, ...]: comma_list}


@dataclass(frozen=True)
class Variable:
    """How one field is read: its variable, its converter and the bounds of its value."""

    name: str
    parse: Parser | None = None
    minimum: float | None = None  # smaller values are refused
    floor: float | None = None  # smaller values are raised to this
    default_from: Callable[[Environ], Any] | None = None  # a default computed from other variables
    secret: bool = False  # may come from the file <name>_FILE names (a Swarm or Kubernetes secret)

    def raw(self, env: Environ) -> str | None:
        if not self.secret or f"{self.name}_FILE" not in env:
            return env.get(self.name)
        if self.name in env:
            raise SettingsError(f"set {self.name} or {self.name}_FILE, not both")
        try:
            return Path(env[f"{self.name}_FILE"]).read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{self.name}_FILE cannot be read ({type(exc).__name__})") from None

    def read(self, env: Environ, kind: Any, default: Any) -> Any:
        raw = self.raw(env)
        value = None
        if raw is not None:
            try:
                value = (self.parse or _converter(kind))(raw)
            except SettingsError:
                raise
            except ValueError as exc:
                shown = "" if self.secret else f" (got {raw!r})"  # never echo a secret
                raise SettingsError(f"{self.name} {exc}{shown}") from None
            if value is not None and self.minimum is not None and value < self.minimum:
                raise SettingsError(f"{self.name} must be at least {self.minimum} (got {value})")
        if value is None:
            value = self.default_from(env) if self.default_from else default
        if self.floor is not None:
            value = max(self.floor, value)
        return value


def _converter(kind: Any) -> Parser:
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    members = typing.get_args(kind)
    if typing.get_origin(kind) in (Union, types.UnionType) and type(None) in members:
        (inner,) = [m for m in members if m is not type(None)]
        return nonblank(_converter(inner))
    raise TypeError(f"no converter for {kind!r}: give the setting a parse=")


def setting(
    variable: str,
    default: Any = dataclasses.MISSING,
    *,
    parse: Parser | None = None,
    minimum: float | None = None,
    floor: float | None = None,
    secret: bool = False,
    default_factory: Any = dataclasses.MISSING,
    default_from: Callable[[Environ], Any] | None = None,
) -> Any:
    """A dataclass field read from `variable`; `secret` keeps the value out of repr and lets it come
    from a file (`<variable>_FILE`)."""
    return dataclasses.field(
        default=default,
        default_factory=default_factory,
        repr=not secret,
        metadata={_VARIABLE: Variable(variable, parse, minimum, floor, default_from, secret)},
    )


class EnvSettings:
    """`from_env` for a frozen dataclass whose fields are declared with `setting`."""

    @classmethod
    def from_env(cls: type[S], environ: Environ | None = None, **values: Any) -> S:
        """Every declared variable read from `environ` (default os.environ); `values` given here
        (e.g. from command-line flags) win over the environment. Raises SettingsError."""
        env = os.environ if environ is None else environ
        for spec in dataclasses.fields(cls):  # type: ignore[arg-type]  # every subclass is a dataclass
            if _VARIABLE in spec.metadata and spec.name not in values:
                values[spec.name] = cls.read(spec.name, env)
        settings = cls(**values)
        settings.check()
        return settings

    @classmethod
    def read(cls, name: str, environ: Environ | None = None) -> Any:
        """One field's value from the environment, for a default that depends on it."""
        spec = next(f for f in dataclasses.fields(cls) if f.name == name)  # type: ignore[arg-type]
        default: Any = None
        if spec.default is not dataclasses.MISSING:
            default = spec.default
        elif spec.default_factory is not dataclasses.MISSING:
            default = spec.default_factory()
        return spec.metadata[_VARIABLE].read(
            os.environ if environ is None else environ, typing.get_type_hints(cls)[name], default
        )

    def check(self) -> None:
        """Checks across fields, run by `from_env`; raise SettingsError."""


@dataclass(frozen=True)
class Settings(EnvSettings):
    """What every process shares."""

    etcd_url: str = setting("TOTEM_ETCD_URL", "etcd://127.0.0.1:2379")
    redis_url: str = setting("TOTEM_REDIS_URL", "redis://127.0.0.1:6379/0")
    env: str = setting("TOTEM_ENV", "local")
    cluster: str = setting("TOTEM_CLUSTER", "local")
    hook_secret: str | None = setting("TOTEM_HOOK_SECRET", None, secret=True)
    api_token: str | None = setting("TOTEM_API_TOKEN", None, secret=True)
    cli_token: str | None = setting("TOTEM_TOKEN", None, secret=True)  # the CLI's own token; else TOTEM_API_TOKEN
    insecure_dev: bool = setting("TOTEM_INSECURE_DEV", False)
    access_prefix: str = setting("TOTEM_ACCESS_PREFIX", "totem:access")  # Redis keys of tokens and the audit trail
    audit: bool = setting("TOTEM_AUDIT", True)  # off: no audit records (bench/auth.py compares)
    audit_retention: float = setting("TOTEM_AUDIT_RETENTION", 365 * 86400.0, parse=duration)  # then trimmed
    registry: str = setting("TOTEM_REGISTRY", "127.0.0.1:5000")
    orchestrator_url: str = setting("TOTEM_ORCHESTRATOR_URL", "http://127.0.0.1:9400")
    deployer_url: str = setting("TOTEM_DEPLOYER_URL", "http://127.0.0.1:9000")
    image_factory_url: str = setting("TOTEM_IMAGE_FACTORY_URL", "http://127.0.0.1:9300")
    prometheus_url: str = setting("TOTEM_PROMETHEUS_URL", "http://127.0.0.1:9090", parse=base_url)  # canary analysis
    # where instances' log lines go unless the environment's totem.yml says (docs/logging.md); "" is off
    syslog_url: str = setting("TOTEM_SYSLOG_URL", "tcp://127.0.0.1:5514", parse=syslog_setting)
    yoda_base: str = setting("YODA_BASE", "/yoda", parse=key_prefix)
    git_url_template: str = setting("TOTEM_GIT_URL_TEMPLATE", "https://github.com/{owner}/{repo}.git")
    scheduler: str = setting("TOTEM_SCHEDULER", "docker")
    config_providers: tuple[str, ...] = setting("TOTEM_CONFIG_PROVIDERS", ("repo", "etcd", "default"))
    docker_host: str = setting("DOCKER_HOST", "unix:///var/run/docker.sock")
    aws_endpoint_url: str | None = setting("AWS_ENDPOINT_URL", None)
    home: Path = setting("TOTEM_HOME", Path("~/.totem").expanduser())
    log_format: str = setting("TOTEM_LOG_FORMAT", "json")
    # commit statuses (orchestrator and deployer); no token: no statuses
    github_api_url: str = setting("TOTEM_GITHUB_API_URL", "https://api.github.com", parse=base_url)
    github_token: str | None = setting("TOTEM_GITHUB_TOKEN", None, secret=True)

    def check(self) -> None:
        scheme = urlsplit(self.etcd_url).scheme
        if scheme not in {"etcd", "etcd2", "http", "https"}:
            raise SettingsError(f"TOTEM_ETCD_URL must start with etcd:// or etcd2:// (got {self.etcd_url!r})")
        if urlsplit(self.redis_url).scheme not in {"redis", "rediss", "unix"}:
            raise SettingsError(f"TOTEM_REDIS_URL must be a redis:// URL (got {self.redis_url!r})")
        if self.scheduler not in {"docker", "swarm", "fleet"}:
            raise SettingsError(f"TOTEM_SCHEDULER must be docker, swarm or fleet (got {self.scheduler!r})")
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


@dataclass(frozen=True)
class MetricsSettings(EnvSettings):
    """Where the processes without an HTTP API of their own serve `/metrics`, and where every process
    announces its metrics address (docs/metrics.md). A bind is `host:port`; port 0 picks a free one
    (announced as bound); "" serves none."""

    services_prefix: str = setting(
        "TOTEM_SERVICES_PREFIX",
        parse=key_prefix,
        default_from=lambda env: services_contract.default_prefix(Settings.read("yoda_base", env)),
    )
    services_ttl: int = setting("TOTEM_SERVICES_TTL", 15, minimum=2)  # seconds a registration outlives its process
    orchestrator_worker: str = setting("TOTEM_ORCHESTRATOR_WORKER_METRICS", "127.0.0.1:9411")
    deployer_worker: str = setting("TOTEM_DEPLOYER_WORKER_METRICS", "127.0.0.1:9011")
    image_factory_worker: str = setting("TOTEM_IMAGE_FACTORY_WORKER_METRICS", "127.0.0.1:9311")

    def worker_bind(self, service: str) -> str:
        """The bind of `service`'s Celery worker ("" when it has none)."""
        return str(getattr(self, f"{service}_worker", ""))


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
