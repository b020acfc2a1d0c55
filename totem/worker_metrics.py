"""`python -m totem.worker_metrics SERVICE HOST:PORT QUEUE...`: a Celery worker's /metrics, served
and announced (as `SERVICE-worker`) from a process of its own beside the worker's main process, which
forks its pool (totem.service_registry.started). It reads the figures the worker and its forks keep
in their multiprocess directory (PROMETHEUS_MULTIPROC_DIR, inherited) and each queue's depth."""

from __future__ import annotations

import logging
import sys

from totem import logs, metrics, service_registry
from totem.settings import Settings

log = logging.getLogger("totem.worker_metrics")


def main(args: list[str]) -> int:
    if len(args) < 2:
        print("usage: python -m totem.worker_metrics SERVICE HOST:PORT QUEUE...", file=sys.stderr)
        return 2
    service, bind, *queues = args
    logs.bootstrap(f"{service}-worker-metrics")
    shown = metrics.registry(metrics.QueueDepth(Settings.from_env().redis_url, queues or [service]))
    try:
        server, address = metrics.serve(bind, shown)
    except (OSError, ValueError) as exc:  # a busy port costs the metrics, never the worker
        log.warning("cannot serve worker metrics on %s: %s", bind, exc)
        return 1
    log.info("worker metrics on http://%s/metrics", address)
    service_registry.hold(service_registry.announce(f"{service}-worker", address))
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
