"""Settings of one yoda-proxy process: command-line flags (cli.py) over the environment."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from totem.settings import EnvSettings, nonblank, setting


@dataclass(frozen=True)
class Bind:
    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> Bind:
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"{value!r}: expected host:port")
        return cls(host.strip("[]") or "0.0.0.0", int(port))

    @property
    def haproxy(self) -> str:
        """The address as written on a HAProxy `bind` line."""
        return f"ipv6@{self.host}:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ProxySettings(EnvSettings):
    etcd_url: str = "etcd://127.0.0.1:2379"  # --etcd-url, default TOTEM_ETCD_URL
    base: str = "/yoda"  # --base, default YODA_BASE
    node: str = setting("YODA_NODE", default_factory=socket.gethostname, parse=nonblank())
    http: Bind = Bind("127.0.0.1", 8080)
    https: Bind = Bind("127.0.0.1", 8443)
    admin: Bind = Bind("127.0.0.1", 8081)
    work_dir: Path = Path("~/.totem/proxy").expanduser()
    haproxy: str = "/usr/sbin/haproxy"
    default_cert: Path | None = None  # generated (self-signed) when not given
    advertise: str | None = None  # address announced in proxy-nodes/<node>/info
    debounce: float = 0.01  # quiet time before a burst that needs the full path (runtime-only changes: at once)
    max_delay: float = 0.2  # apply at the latest this long after the first change
    hard_stop_after: str = "30s"  # how long old workers may finish in-flight requests
    lease_ttl: int = 10
    # seconds an endpoint gone from etcd stays while HAProxy reports it UP (grace.py); 0: none
    endpoint_grace: float = setting("YODA_ENDPOINT_GRACE", 90.0, minimum=0)
    admin_password: str | None = setting("YODA_ADMIN_PASSWORD", None, secret=True)

    @property
    def prefix(self) -> str:
        return self.base.rstrip("/") + "/"
