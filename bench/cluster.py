"""Cluster benchmark on the 3-host rig (`totem cluster up`: hosts as network namespaces, one engine
each over TLS, a 3-member etcd, both edge proxies), `docker` scheduler, 3 instances per app.

Prints:
  * deploy request → live (the app's page served through an edge proxy) for 1, 10 and 30 apps
    deployed at once, 3 instances each: median and p90 over the apps;
  * a host lost (link down, every process killed) under load through both edge proxies: seconds
    from the loss to the last failed request, requests failed of requests sent, and how long until
    its endpoints left etcd and the instance count was restored on the other hosts;
  * a blue-green switch of a 3-instance app under load through both proxies: requests sent, non-2xx
    answers, connection errors.

The rig is reused when it is up, else brought up and taken down at the end.
Run: .venv/bin/python bench/cluster.py [--batches 1,10,30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import percentile, record  # noqa: E402
from tests.cluster.harness import RigDeployer, edge_loads, push_app, revive, through  # noqa: E402
from tests.fixtures.deployer.harness import deploy_request  # noqa: E402
from totem.settings import Settings  # noqa: E402
from totem.waiting import wait  # noqa: E402
from totem_cluster.rig import Cluster  # noqa: E402

NODES = 3


def live(edge, vhost: str, expect: str) -> bool:
    try:
        return through(edge, vhost).text.strip() == expect
    except requests.RequestException:
        return False


def deploy_until_live(deployer: RigDeployer, edge, app: str, version: str, image: str) -> tuple[float, dict]:
    started = time.monotonic()
    answer = deployer.deploy(deploy_request(app, version, image, f"{app}.localhost", nodes=NODES))
    assert answer.status_code == 202, answer.get_json()
    deployment = answer.get_json()["deployment"]["id"]

    def served() -> bool:
        if deployer.deployment(deployment)["state"] in ("FAILED", "DECOMMISSIONED"):
            raise AssertionError(f"{app} {version}: {deployer.deployment(deployment).get('error')}")
        return live(edge, f"{app}.localhost", f"version={version}")

    wait(served, 600, 0.1, what=f"{app} {version} live")
    elapsed = time.monotonic() - started
    record = deployer.wait_finished(deployment, 600)
    assert record["state"] == "PROMOTED", record.get("error")
    return elapsed, record


def batch(deployer: RigDeployer, edge, tag: str, count: int) -> list[float]:
    apps = [f"b{count}-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return [took for took, _record in pool.map(lambda app: deploy_until_live(deployer, edge, app, "v1", tag), apps)]


def host_loss(cluster: Cluster, deployer: RigDeployer, tag: str) -> str:
    app = f"loss-{uuid.uuid4().hex[:6]}"
    vhost = f"{app}.localhost"
    _took, record = deploy_until_live(deployer, cluster.edges[0], app, "v1", tag)
    victim = cluster.hosts[-1]
    with edge_loads(cluster, vhost) as loads:
        lost_at = time.monotonic()
        cluster.kill_host(victim)
        wait(lambda: victim.address not in deployer.registered(record["upstream"]).values(), 60, 0.05, what="gone")
        gone = time.monotonic() - lost_at
        wait(lambda: len(deployer.registered(record["upstream"])) == NODES, 180, 0.1, what="the count restored")
        restored = time.monotonic() - lost_at
        for load in loads:
            load.wait_for(200, 30)
    last = max(load.recovered_after(lost_at) for load in loads)
    sent, failed = sum(load.sent for load in loads), sum(load.failed for load in loads)
    return (
        f"host lost under load (both edges): last failed or stalled request {last:.2f}s after the loss, "
        f"{failed} failed of {sent} sent; endpoints gone from etcd after {gone:.2f}s, "
        f"3 instances again after {restored:.2f}s"
    )


def switch(cluster: Cluster, deployer: RigDeployer, tags: dict[str, str]) -> str:
    app = f"switch-{uuid.uuid4().hex[:6]}"
    vhost = f"{app}.localhost"
    deploy_until_live(deployer, cluster.edges[0], app, "v1", tags["v1"])
    with edge_loads(cluster, vhost) as loads:
        deploy_until_live(deployer, cluster.edges[0], app, "v2", tags["v2"])
        for load in loads:
            wait(lambda load=load: load.last == "version=v2", 30, what="v2 through every edge")
            load.wait_for(50, 20)
    errors = sum((load.errors() for load in loads), start=Counter())
    http = sum(n for what, n in errors.items() if what.startswith("HTTP "))
    return (
        f"blue-green switch under load through both proxies: {sum(load.sent for load in loads)} requests, "
        f"{http} non-2xx, {sum(errors.values()) - http} connection errors"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="1,10,30", help="comma-separated numbers of apps deployed at once")
    args = parser.parse_args()
    settings = Settings.from_env()
    cluster = Cluster.load(settings)
    made = cluster is None
    cluster = Cluster.up(settings, NODES, out=None)
    tags = {version: push_app(cluster, version) for version in ("v1", "v2")}
    deployer = RigDeployer(cluster, drain=1.0, reconcile_interval=2).start()
    try:
        batch(deployer, cluster.edges[0], tags["v1"], 1)  # warm-up: images pulled on every host
        for count in (int(part) for part in args.batches.split(",")):
            took = batch(deployer, cluster.edges[0], tags["v1"], count)
            print(
                f"deploy request -> live, {count} app(s) at once x {NODES} instances: "
                f"median {statistics.median(took):.2f}s  p90 {percentile(took, 90):.2f}s",
                flush=True,
            )
            record(f"cluster: deploy request → live, {count} app(s) x {NODES}, p90", percentile(took, 90), "s")
        print(switch(cluster, deployer, tags), flush=True)
        print(host_loss(cluster, deployer, tags["v1"]), flush=True)
    finally:
        deployer.stop()
        revive(cluster)
        if made:
            cluster.down(out=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
