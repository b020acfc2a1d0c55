"""Faults under load, against the real services (the scenarios of tests/faults/, which the fault tests
assert on). Prints, per fault: requests sent, failed, and seconds from the fault until the last
failed or stalled answer; then what was left stuck (the goal: nothing).

Goal (issue #14): 0 failed for every fault except the HAProxy worker's death and the Docker engine
restart without live-restore, and those recovered within 2 s.

Run: .venv/bin/python bench/faults.py [--only NAME ...] 2>/dev/null   (needs `totem stack up`; the
services' logs go to stderr)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import record  # noqa: E402
from tests.browser.fullstack import FullStack  # noqa: E402
from tests.faults import FaultOutcome  # noqa: E402
from tests.faults import deployer as deployer_faults  # noqa: E402
from tests.faults.deliveries import identical_deliveries  # noqa: E402
from tests.faults.image_factory import build_worker_killed  # noqa: E402
from tests.faults.proxy_worker import HOST, haproxy_worker_death, routed_proxy  # noqa: E402
from tests.faults.redis_outage import push_during_redis_outage  # noqa: E402
from tests.faults.registrations import discover_killed, etcd_paused, etcd_restarted, registered_app  # noqa: E402
from tests.fixtures.deployer.harness import DeployerStack  # noqa: E402
from tests.private_redis import PrivateRedis  # noqa: E402
from tests.support import PrivateEtcd  # noqa: E402
from yoda_proxy.testing import local_etcd_url  # noqa: E402


def proxy_worker(_client, _work: Path) -> Iterator[FaultOutcome]:
    with routed_proxy() as proxy:
        yield haproxy_worker_death(proxy, HOST)


def registrations(client, work: Path) -> Iterator[FaultOutcome]:
    with registered_app(client, local_etcd_url()) as app:
        yield discover_killed(app)
    etcd = PrivateEtcd(work).start()
    try:
        with registered_app(client, etcd.url) as app:
            yield etcd_paused(app, etcd, 15)
        with registered_app(client, etcd.url) as app:
            yield etcd_restarted(app, etcd, 15)
    finally:
        etcd.stop()


def docker_engine(client, _work: Path) -> Iterator[FaultOutcome]:
    for live_restore in (True, False):
        yield deployer_faults.docker_restart(client, live_restore)


def deployer(client, _work: Path) -> Iterator[FaultOutcome]:
    stack = DeployerStack(client, drain=2.0).start()
    try:
        for moment in deployer_faults.MOMENTS:
            yield deployer_faults.worker_killed(stack, moment)
    finally:
        stack.stop()
    stack = DeployerStack(client, reconcile_interval=1.0).start()
    try:
        yield deployer_faults.sidekick_killed(stack)
    finally:
        stack.stop()


def image_factory(_client, work: Path) -> Iterator[FaultOutcome]:
    yield build_worker_killed(work)


def pipeline(_client, work: Path) -> Iterator[FaultOutcome]:
    """The whole pipeline on a private Redis: a push during its outage, a push delivered 30 times."""
    redis = PrivateRedis(work).start()
    stack = FullStack(redis_url=redis.url()).start()
    try:
        stack.deploy("1")
        yield push_during_redis_outage(stack, redis, "2")
        yield identical_deliveries(stack, "3")
    finally:
        stack.stop()
        redis.stop()


SCENARIOS: dict[str, Callable[..., Iterator[FaultOutcome]]] = {
    "proxy": proxy_worker,
    "registrations": registrations,
    "docker": docker_engine,
    "deployer": deployer,
    "image-factory": image_factory,
    "pipeline": pipeline,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="run only these groups")
    args = parser.parse_args()
    client = docker.from_env()
    stuck = 0
    for name in args.only or SCENARIOS:
        with tempfile.TemporaryDirectory(prefix=f"faults-{name}-") as work:
            for outcome in SCENARIOS[name](client, Path(work)):
                print(outcome.line(), flush=True)
                stuck += bool(outcome.stuck)
                record(f"fault: {outcome.fault}, requests failed", outcome.failed, f"of {outcome.sent}")
                record(f"fault: {outcome.fault}, recovered after", outcome.recovered_s, "s", at_most=2)
    record("faults: anything left stuck", stuck, "faults", at_most=0)
    return 1 if stuck else 0


if __name__ == "__main__":
    sys.exit(main())
