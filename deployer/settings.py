"""Deployer settings beyond the shared ones (environment variables, documented in the README)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from deployer.engines import Access, refuse_unsafe
from totem.settings import EnvSettings, Settings, SettingsError, key_prefix, setting


def missed_runs(raw: str) -> str:
    """What a scheduled job does about runs missed while no deployer ran (deployer/job_runs.py)."""
    if raw.strip().lower() not in ("once", "skip"):
        raise ValueError("must be once or skip")
    return raw.strip().lower()


def port_range(raw: str) -> tuple[int, int]:
    low, _, high = raw.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 <= int(low) < int(high) <= 65535):
        raise ValueError("must look like 20000-29999")
    return int(low), int(high)


@dataclass(frozen=True)
class DeployerSettings(EnvSettings):
    prefix: str = setting("TOTEM_DEPLOYER_PREFIX", "/totem/deployer", parse=key_prefix)  # etcd root for records
    docker_hosts: tuple[str, ...] = setting("TOTEM_DOCKER_HOSTS", ())  # empty: the shared DOCKER_HOST only
    docker_certs: str | None = setting("TOTEM_DOCKER_CERTS", None)  # TLS client certificates (deployer/engines.py)
    docker_insecure: bool = setting("TOTEM_DOCKER_INSECURE", False)  # allow plain tcp to hosts not on loopback
    ports: tuple[int, int] = setting("TOTEM_DEPLOYER_PORTS", (20000, 29999), parse=port_range)  # host ports
    start_limit: int = setting("TOTEM_DEPLOYER_START_LIMIT", 3)  # cluster-wide concurrent instance starts
    start_timeout: float = setting("TOTEM_DEPLOYER_START_TIMEOUT", 120.0)  # instances running
    discover_timeout: float = setting("TOTEM_DEPLOYER_DISCOVER_TIMEOUT", 120.0)  # endpoints registered in etcd
    check_interval: float = setting("TOTEM_DEPLOYER_CHECK_INTERVAL", 1.0)  # between HTTP check attempts
    ack_timeout: float = setting("TOTEM_DEPLOYER_ACK_TIMEOUT", 60.0)  # proxies applying a wiring revision
    drain: float = setting("TOTEM_DEPLOYER_DRAIN", 10.0)  # seconds old versions keep serving after the switch
    deadline: float = setting("TOTEM_DEPLOYER_DEADLINE", 1800.0)  # a deployment not finished by then is failed
    lock_ttl: int = setting("TOTEM_DEPLOYER_LOCK_TTL", 15)
    sweep_interval: float = setting("TOTEM_DEPLOYER_SWEEP_INTERVAL", 15.0)  # resume deployments nobody works on
    reconcile_interval: float = setting("TOTEM_DEPLOYER_RECONCILE_INTERVAL", 60.0)
    encryption_key: str | None = setting("TOTEM_ENCRYPTION_KEY", None, secret=True)
    fleet_url: str = setting("TOTEM_FLEET_URL", "http://127.0.0.1:49153")
    fleet_templates: str | None = setting("TOTEM_FLEET_TEMPLATES", None)  # directory overriding the packaged templates
    discover_image: str = setting("TOTEM_DISCOVER_IMAGE", "127.0.0.1:5000/totem/yoda-discover:latest")  # fleet sidekick
    notify_timeout: float = setting("TOTEM_DEPLOYER_NOTIFY_TIMEOUT", 10.0)
    swarm_host: str | None = setting("TOTEM_SWARM_HOST", None)  # a swarm manager's Docker API (default DOCKER_HOST)
    queue: str = setting("TOTEM_DEPLOYER_QUEUE", "deployer")  # Celery queue (one per cluster sharing Redis)
    missed_runs: str = setting("TOTEM_DEPLOYER_MISSED_RUNS", "once", parse=missed_runs)  # scheduled jobs: once|skip
    job_timeout: float = setting("TOTEM_DEPLOYER_JOB_TIMEOUT", 3600.0, minimum=1)  # a job's run is killed after it
    max_followers: int = setting("TOTEM_DEPLOYER_MAX_FOLLOWERS", 4, minimum=1)  # followed app logs per API process

    @property
    def port_min(self) -> int:
        return self.ports[0]

    @property
    def port_max(self) -> int:
        return self.ports[1]

    @property
    def access(self) -> Access:
        return Access(self.docker_certs, self.docker_insecure)


def engine_urls(settings: Settings, options: DeployerSettings) -> tuple[str, ...]:
    """Every Docker host the deployer may talk to: the docker scheduler's and the swarm manager."""
    hosts = options.docker_hosts or (settings.docker_host,)
    return tuple(dict.fromkeys([*hosts, options.swarm_host or settings.docker_host]))


def load_or_exit(settings: Settings, options: DeployerSettings | None = None) -> DeployerSettings:
    """The deployer's settings for an entry point (the API app, the worker), as totem.settings'
    `load_or_exit`: one line on stderr and exit 2 when a setting is unusable or names a Docker host
    the deployer must not talk to (checked before any connection is made)."""
    try:
        options = options or DeployerSettings.from_env()
        refuse_unsafe(engine_urls(settings, options), options.access)
        return options
    except SettingsError as exc:
        print(f"deployer: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
