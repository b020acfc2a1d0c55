"""What runs beside each engine: `yoda-discover watch` on every host; `yoda-proxy` and
`yoda-discover presence` on the edge hosts. All of them use the cluster's etcd."""

from __future__ import annotations

import sys
from functools import partial

from totem_cluster.hosts import Host, Proc
from totem_stack import health

HTTP_PORT, HTTPS_PORT, ADMIN_PORT = 8080, 8443, 8081
TTL = "2"  # seconds: a dead host's endpoints leave etcd this fast


def _module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


def _ready(healthz: str) -> bool:
    """The proxy applied its first revision and HAProxy runs."""
    return health.http_status(healthz) == 200


def for_host(host: Host, etcd_url: str, base: str) -> list[Proc]:
    store = ("--etcd", etcd_url, "--base", base, "--host-ip", host.address, "--ttl", TTL)
    watch = _module("yoda_discover", "watch", *store, "--docker-host", host.docker_socket)
    found = [Proc("discover-watch", watch, host.address)]
    if not host.edge:
        return found
    binds = {"--http": HTTP_PORT, "--https": HTTPS_PORT, "--admin": ADMIN_PORT}
    proxy = _module(
        "yoda_proxy",
        *("--etcd-url", etcd_url, "--base", base, "--node", host.name),
        *(part for flag, port in binds.items() for part in (flag, f"{host.address}:{port}")),
        *("--work-dir", str(host.root / "proxy")),
    )
    ready = partial(_ready, f"http://{host.address}:{ADMIN_PORT}/healthz")
    found.append(Proc("proxy", proxy, f"{host.address}:{HTTP_PORT}", ready, 30.0))
    presence = _module("yoda_discover", "presence", *store, "--node", host.name)
    found.append(Proc("discover-presence", presence, host.address))
    return found
