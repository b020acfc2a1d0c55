"""Deployer settings beyond the shared ones (environment variables, documented in the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from totem.settings import SettingsError, env_float, env_int


@dataclass(frozen=True)
class DeployerOptions:
    prefix: str = "/totem/deployer"          # etcd root for deployment records
    docker_hosts: tuple[str, ...] = ()       # empty: the shared DOCKER_HOST only
    port_min: int = 20000
    port_max: int = 29999
    start_limit: int = 3                     # cluster-wide concurrent instance starts
    start_timeout: float = 120.0             # instances running
    discover_timeout: float = 120.0          # endpoints registered in etcd
    check_interval: float = 1.0              # between HTTP check attempts
    ack_timeout: float = 60.0                # proxies applying a wiring revision
    drain: float = 10.0                      # seconds old versions keep serving after the switch
    deadline: float = 1800.0                 # a deployment not finished by then is failed
    lock_ttl: int = 15
    sweep_interval: float = 15.0             # resume deployments nobody works on
    reconcile_interval: float = 60.0
    encryption_key: str | None = None
    fleet_url: str = "http://127.0.0.1:49153"
    fleet_templates: str | None = None       # directory overriding the packaged templates
    discover_image: str = "127.0.0.1:5000/totem/yoda-discover:latest"  # fleet register sidekick
    notify_timeout: float = 10.0
    swarm_host: str | None = None            # a swarm manager's Docker API (default DOCKER_HOST)
    queue: str = "deployer"                  # Celery queue (one per cluster when deployers share Redis)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "DeployerOptions":
        env = os.environ if environ is None else environ
        hosts = tuple(h.strip() for h in env.get("TOTEM_DOCKER_HOSTS", "").split(",") if h.strip())
        port_range = env.get("TOTEM_DEPLOYER_PORTS", "20000-29999")
        low, _, high = port_range.partition("-")
        if not (low.isdigit() and high.isdigit() and 1024 <= int(low) < int(high) <= 65535):
            raise SettingsError(f"TOTEM_DEPLOYER_PORTS must look like 20000-29999 (got {port_range!r})")
        return cls(
            prefix="/" + env.get("TOTEM_DEPLOYER_PREFIX", cls.prefix).strip("/"),
            docker_hosts=hosts, port_min=int(low), port_max=int(high),
            start_limit=env_int(env, "TOTEM_DEPLOYER_START_LIMIT", cls.start_limit),
            start_timeout=env_float(env, "TOTEM_DEPLOYER_START_TIMEOUT", cls.start_timeout),
            discover_timeout=env_float(env, "TOTEM_DEPLOYER_DISCOVER_TIMEOUT", cls.discover_timeout),
            check_interval=env_float(env, "TOTEM_DEPLOYER_CHECK_INTERVAL", cls.check_interval),
            ack_timeout=env_float(env, "TOTEM_DEPLOYER_ACK_TIMEOUT", cls.ack_timeout),
            drain=env_float(env, "TOTEM_DEPLOYER_DRAIN", cls.drain),
            deadline=env_float(env, "TOTEM_DEPLOYER_DEADLINE", cls.deadline),
            lock_ttl=env_int(env, "TOTEM_DEPLOYER_LOCK_TTL", cls.lock_ttl),
            sweep_interval=env_float(env, "TOTEM_DEPLOYER_SWEEP_INTERVAL", cls.sweep_interval),
            reconcile_interval=env_float(env, "TOTEM_DEPLOYER_RECONCILE_INTERVAL", cls.reconcile_interval),
            encryption_key=env.get("TOTEM_ENCRYPTION_KEY") or None,
            fleet_url=env.get("TOTEM_FLEET_URL", cls.fleet_url),
            fleet_templates=env.get("TOTEM_FLEET_TEMPLATES") or None,
            discover_image=env.get("TOTEM_DISCOVER_IMAGE", cls.discover_image),
            notify_timeout=env_float(env, "TOTEM_DEPLOYER_NOTIFY_TIMEOUT", cls.notify_timeout),
            swarm_host=env.get("TOTEM_SWARM_HOST") or None,
            queue=env.get("TOTEM_DEPLOYER_QUEUE", cls.queue),
        )
