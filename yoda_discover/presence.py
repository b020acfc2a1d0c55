"""`yoda-discover presence`: announces a proxy node while its ports answer.

Writes `<base>/proxy-nodes/<node>/info` = {"address", "http", "https", "admin"}
under a lease, after a TCP check of every port given; deletes it on exit and
after `fall` failed checks. A dead announcer's key goes when its lease expires.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from totem.contracts import yoda
from totem.store import Store
from yoda_discover import health
from yoda_discover.health import CheckResult
from yoda_discover.registrar import CheckPolicy, Registration


@dataclass(frozen=True)
class ProxyNode:
    node: str
    address: str
    http: int = 8080
    https: int = 8443  # 0: no HTTPS listener
    admin: int = 8081

    def info(self) -> str:
        return json.dumps(
            {"address": self.address, "http": self.http, "https": self.https, "admin": self.admin}, sort_keys=True
        )

    def ports(self) -> list[int]:
        return [port for port in (self.http, self.https, self.admin) if port]


def ports_check(host: str, ports: list[int], timeout: float) -> CheckResult:
    for port in ports:
        result = health.tcp_check(host, port, timeout)
        if not result.ok:
            return result
    return CheckResult(True, f"ports {ports} answer")


def presence_registration(
    store: Store, base: str, proxy: ProxyNode, check_host: str | None = None, policy: CheckPolicy = CheckPolicy()
) -> Registration:
    host = check_host or proxy.address
    return Registration(
        store,
        yoda.proxy_node_info_key(base, proxy.node),
        proxy.info(),
        lambda: ports_check(host, proxy.ports(), policy.timeout),
        policy,
    )


def run_presence(registration: Registration, done: threading.Event) -> None:
    """Announce until `done` is set, then withdraw."""
    registration.start()
    try:
        done.wait()
    finally:
        registration.stop()
