"""Settings for a demo run kept apart from everything else on the machine (tests, benchmarks):
its own $TOTEM_HOME, Redis database, key prefixes, yoda base, cluster name, instance ports and service
and proxy ports, so it runs beside a user's demo on the default ports without touching it."""

from __future__ import annotations

import uuid
from pathlib import Path

from totem.net import free_port

SERVICE_URLS = ("TOTEM_ORCHESTRATOR_URL", "TOTEM_DEPLOYER_URL", "TOTEM_IMAGE_FACTORY_URL")
DEMO_ADDRESSES = ("TOTEM_DEMO_PROXY_HTTP", "TOTEM_DEMO_PROXY_HTTPS", "TOTEM_DEMO_PROXY_ADMIN", "TOTEM_DEMO_DASHBOARD")
# where the workers and yoda-discover serve /metrics (docs/metrics.md): free ports, announced in etcd
METRICS_BINDS = (
    "TOTEM_ORCHESTRATOR_WORKER_METRICS",
    "TOTEM_DEPLOYER_WORKER_METRICS",
    "TOTEM_IMAGE_FACTORY_WORKER_METRICS",
    "TOTEM_DEMO_DISCOVER_METRICS",
)


def environment(home: Path, redis_db: int, tag: str | None = None) -> dict[str, str]:
    tag = tag or uuid.uuid4().hex[:8]
    return {
        "TOTEM_HOME": str(home),
        "TOTEM_REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "YODA_BASE": f"/{tag}/yoda",
        "TOTEM_CLUSTER": f"c{tag}",
        "TOTEM_ENV": f"e{tag}",
        "TOTEM_DEPLOYER_PREFIX": f"/{tag}/deployer",
        "TOTEM_CONFIG_ETCD_PREFIX": f"/{tag}/config",
        "TOTEM_ORCHESTRATOR_PREFIX": f"{tag}:orchestrator",
        "TOTEM_IMAGE_FACTORY_PREFIX": f"{tag}:image_factory",
        "TOTEM_IMAGE_FACTORY_QUEUE": f"image_factory_{tag}",
        "TOTEM_DEPLOYER_QUEUE": f"deployer_{tag}",
        "TOTEM_DEPLOYER_PORTS": "30000-30999",
        "TOTEM_DEPLOYER_DISCOVER_TIMEOUT": "20",
        "TOTEM_DEPLOYER_START_TIMEOUT": "30",
        **{name: f"http://127.0.0.1:{free_port()}" for name in SERVICE_URLS},
        **{name: f"127.0.0.1:{free_port()}" for name in DEMO_ADDRESSES},
        **{name: "127.0.0.1:0" for name in METRICS_BINDS},
    }


def etcd_prefixes(env: dict[str, str]) -> list[str]:
    """What to delete from etcd afterwards."""
    return ["/" + env["YODA_BASE"].strip("/").split("/")[0] + "/"]
