"""The stack's services, one small definition each: address, command, health check."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from totem.contracts import yoda
from totem.settings import Settings
from totem_stack import health, supervise
from totem_stack import prometheus as prom
from totem_stack import rsyslog as syslog_collector

DEFAULT_AWS_ENDPOINT = "http://127.0.0.1:5001"
# dockerd and containerd put unix sockets under --exec-root (the longest ends in
# "/containerd/containerd.sock.ttrpc"); a socket path must fit in 108 bytes.
EXEC_ROOT_MAX = 60
# Containers keep running while dockerd restarts (an upgrade, a crash): no outage for the apps.
DAEMON_CONFIG = {"live-restore": True}


@dataclass(frozen=True)
class StackHome:
    """$TOTEM_HOME: data in <svc>/, logs in log/<svc>.log, pid files in run/<svc>.pid."""

    root: Path

    def data(self, name: str) -> Path:
        return self.root / name

    def log(self, name: str) -> Path:
        return self.root / "log" / f"{name}.log"

    def pid(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"

    @property
    def lock(self) -> Path:
        return self.root / "run" / "stack.lock"

    @classmethod
    def of(cls, settings: Settings) -> StackHome:
        return cls(settings.home.absolute())  # services run with it as their working directory


@dataclass(frozen=True)
class Service:
    name: str
    program: str  # executable name; /proc/<pid>/cmdline must show it
    package: str | None  # Debian package providing `program`
    address: str  # what the user sees
    argv: tuple[str, ...]  # argv[0] is looked up on PATH unless absolute
    healthy: Callable[[], bool] = field(compare=False)
    local: bool = True  # on loopback, so the stack may start it
    tcp: tuple[str, int] | None = None  # must be free before starting
    files: dict[Path, str] = field(default_factory=dict)  # config written before starting
    dirs: tuple[Path, ...] = ()
    timeout: float = 30.0  # seconds to become healthy
    leftovers_under: str | None = None  # containerd processes and mounts below it are ours


def host_port(value: str, default_port: int) -> tuple[str, int]:
    """Host and port of a URL (`etcd://h:p`) or a bare `host:port`."""
    parts = urlsplit(value if "://" in value else f"//{value}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def docker_exec_root(home: Path) -> Path:
    """$TOTEM_HOME/docker/exec, or /run/totem-<hash> when that is too long for sockets."""
    candidate = home / "docker" / "exec"
    if len(str(candidate)) <= EXEC_ROOT_MAX:
        return candidate
    return Path("/run") / f"totem-{hashlib.sha256(str(home).encode()).hexdigest()[:12]}"


def etcd_argv(
    name: str, data_dir: Path, client: str, peer: str, *extra: str, cluster: str | None = None
) -> tuple[str, ...]:
    """An etcd member serving v3 and v2 on `client` (a URL), peering on `peer`; alone unless
    `cluster` gives every member (`a=http://..:2380,b=...`)."""
    urls = {"--listen-client-urls": client, "--advertise-client-urls": client}
    initial = cluster or f"{name}={peer}"
    urls |= {"--listen-peer-urls": peer, "--initial-advertise-peer-urls": peer, "--initial-cluster": initial}
    flags = [part for option in urls.items() for part in option]
    # an hour of history for watchers to resume from (older: they list again, totem.store.Compacted);
    # without compaction every revision is kept until the backend's quota stops all writes
    compaction = ("--auto-compaction-mode=periodic", "--auto-compaction-retention=1h")
    return ("etcd", "--name", name, "--data-dir", str(data_dir), *flags, "--enable-v2=true", *compaction, *extra)


def etcd(settings: Settings, home: StackHome) -> Service:
    host, port = host_port(settings.etcd_url, 2379)
    client = f"http://{join_host_port(host, port)}"
    peer = f"http://{join_host_port(host, port + 1)}"
    argv = etcd_argv("totem", home.data("etcd"), client, peer, "--logger=zap")
    return Service(
        "etcd",
        program="etcd",
        package="etcd-server",
        address=join_host_port(host, port),
        argv=argv,
        healthy=partial(health.etcd, client),
        local=is_loopback(host),
        tcp=(host, port),
    )


def redis(settings: Settings, home: StackHome) -> Service:
    url = urlsplit(settings.redis_url)
    host, port = host_port(settings.redis_url, 6379)
    local = url.scheme in {"redis", "rediss"} and is_loopback(host)
    data = home.data("redis")
    config = [f"bind {host}", f"port {port}", f'dir "{data}"', "appendonly yes", "daemonize no"]
    if url.password:
        config.append(f'requirepass "{url.password}"')
    conf = data / "redis.conf"
    return Service(
        "redis",
        program="redis-server",
        package="redis-server",
        address=join_host_port(host, port),
        argv=("redis-server", str(conf)),
        healthy=partial(health.redis_ping, settings.redis_url),
        local=local,
        tcp=(host, port),
        files={conf: "\n".join(config) + "\n"},
        dirs=(data,),
        timeout=15,
    )


def dockerd_argv(
    program: str, data_root: Path, exec_root: Path, pidfile: Path, config: Path, *hosts: str
) -> tuple[str, ...]:
    """A dockerd of Totem's own: no bridge nor iptables rules (containers use host networking),
    its own data, exec root, pid file and config, listening on `hosts` (-H each)."""
    paths = ("--data-root", str(data_root), "--exec-root", str(exec_root), "--pidfile", str(pidfile))
    listen = tuple(part for host in hosts for part in ("-H", host))
    return (
        program,
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        *paths,
        "--config-file",
        str(config),
        *listen,
    )


def docker(settings: Settings, home: StackHome) -> Service:
    data = home.data("docker")
    exec_root = docker_exec_root(home.root)
    url = urlsplit(settings.docker_host)
    tcp = None if url.scheme == "unix" else host_port(settings.docker_host, 2375)
    argv = dockerd_argv(
        "dockerd", data / "data", exec_root, data / "dockerd.pid", data / "daemon.json", settings.docker_host
    )
    return Service(
        "docker",
        program="dockerd",
        package="docker.io",
        address=settings.docker_host,
        argv=argv,
        healthy=partial(health.docker_ping, settings.docker_host),
        local=tcp is None or is_loopback(tcp[0]),
        tcp=tcp,
        files={data / "daemon.json": json.dumps(DAEMON_CONFIG) + "\n"},
        dirs=(data, exec_root),
        timeout=60,
        leftovers_under=str(exec_root),
    )


def registry(settings: Settings, home: StackHome) -> Service:
    host, port = host_port(settings.registry, 5000)
    address = join_host_port(host, port)
    data = home.data("registry")
    config = {
        "version": 0.1,
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(data / "storage")}, "delete": {"enabled": True}},
        "http": {"addr": address},
    }
    conf = data / "config.yml"
    return Service(
        "registry",
        program="docker-registry",
        package="docker-registry",
        address=address,
        argv=("docker-registry", "serve", str(conf)),
        healthy=partial(health.registry, f"http://{address}"),
        local=is_loopback(host),
        tcp=(host, port),
        files={conf: yaml.safe_dump(config)},
        dirs=(data,),
        timeout=15,
    )


def moto(settings: Settings, home: StackHome) -> Service:
    host, port = host_port(settings.aws_endpoint_url or DEFAULT_AWS_ENDPOINT, 5001)
    address = join_host_port(host, port)
    server = Path(sys.executable).parent / "moto_server"
    return Service(
        "moto",
        program="moto_server",
        package=None,
        address=address,
        argv=(str(server), "-H", host, "-p", str(port)),
        healthy=partial(health.moto, f"http://{address}"),
        local=is_loopback(host),
        tcp=(host, port),
        dirs=(home.data("moto"),),
    )


SERVICES_TARGETS = "totem-services.json"  # the registrations' file_sd (docs/metrics.md)


def prometheus_targets(settings: Settings, home: StackHome) -> Service:
    """Keeps Prometheus' targets file in step with the proxy nodes in etcd (totem_stack/prometheus.py),
    under the supervisor: started again when it dies."""
    targets = home.data("prometheus") / "targets" / "yoda-proxies.json"
    registered = targets.with_name(SERVICES_TARGETS)
    return Service(
        "prometheus_targets",
        program=supervise.PROGRAM,
        package=None,
        address=yoda.proxy_nodes_prefix(settings.yoda_base),
        argv=tuple(supervise.command([sys.executable, "-m", "totem_stack.prometheus", str(targets), str(registered)])),
        healthy=partial(prom.targets_fresh, targets),
        dirs=(targets.parent,),
        timeout=15,
    )


def prometheus(settings: Settings, home: StackHome) -> Service:
    host, port = host_port(settings.prometheus_url, 9090)
    address = join_host_port(host, port)
    data = home.data("prometheus")
    conf = data / "prometheus.yml"
    return Service(
        "prometheus",
        program="prometheus",
        package="prometheus",
        address=address,
        argv=prom.argv(conf, data / "tsdb", address),
        healthy=partial(health.prometheus, f"http://{address}"),
        local=is_loopback(host),
        tcp=(host, port),
        files={
            conf: prom.render_config(
                targets_file=data / "targets" / "yoda-proxies.json", services_file=data / "targets" / SERVICES_TARGETS
            )
        },
        dirs=(data,),
    )


def rsyslog(settings: Settings, home: StackHome) -> Service:
    """The log collector (docs/logging.md) at TOTEM_SYSLOG_URL: one file per app under logs/apps/."""
    host, port = host_port(settings.syslog_url or "tcp://127.0.0.1:5514", 5514)
    data = home.data("rsyslog")
    conf = data / "rsyslog.conf"
    work = data / "work"
    return Service(
        "rsyslog",
        program="rsyslogd",
        package="rsyslog",
        address=f"tcp://{join_host_port(host, port)}",
        argv=syslog_collector.argv(conf, data / "rsyslogd.pid"),
        healthy=partial(health.syslog, host, port),
        # empty TOTEM_SYSLOG_URL: shipping is off, no collector; tls://: one of the operator's own
        local=settings.syslog_url.startswith("tcp://") and is_loopback(host),
        tcp=(host, port),
        files={conf: syslog_collector.render_config(host, port, home.root / "logs", work)},
        dirs=(data, work, home.root / "logs" / "apps"),
        timeout=15,
    )


DEFINITIONS = (etcd, redis, docker, registry, moto, prometheus_targets, prometheus, rsyslog)
NAMES = tuple(define.__name__ for define in DEFINITIONS)


def build(settings: Settings, only: tuple[str, ...] = ()) -> list[Service]:
    """The services in start order, optionally only those named."""
    home = StackHome.of(settings)
    return [define(settings, home) for define in DEFINITIONS if not only or define.__name__ in only]
