"""Node loss on the rig: an etcd member stopped changes nothing for a deploy; an edge host lost leaves
Route53; a host lost under load takes its instances out of etcd and both proxies, the deployer's
reconcile restores the instance count on the other hosts, and only requests in flight there fail.
Every test brings the rig back whole (`Cluster.up` is idempotent) for the next one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import boto3
import pytest

from tests.cluster.harness import RigDeployer, edge_loads, push_app, revive
from totem.waiting import wait

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5001"),
}


def addresses(deployer, record: dict) -> list[str]:
    return list(deployer.registered(record["upstream"]).values())


@pytest.fixture(scope="module")
def tag(cluster):
    return push_app(cluster, "v1")


@pytest.fixture
def deployer(cluster):
    stack = RigDeployer(cluster, drain=1.0, reconcile_interval=2).start()
    yield stack
    stack.stop()
    revive(cluster)


def test_a_deploy_succeeds_with_one_of_three_etcd_members_stopped(cluster, deployer, tag):
    member = cluster.hosts[-1]
    cluster.stop_etcd(member)
    record = deployer.promoted(f"etcd-{uuid.uuid4().hex[:8]}", "v1", tag, nodes=2)
    assert len(record["instances"]) == 2


def test_a_lost_edge_host_leaves_route53(cluster, deployer):
    aws = boto3.client(
        "route53",
        endpoint_url=AWS_ENV["AWS_ENDPOINT_URL"],
        region_name=AWS_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    zone = f"rig{uuid.uuid4().hex[:8]}.test."
    zone_id = aws.create_hosted_zone(Name=zone, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]
    argv = [sys.executable, "-m", "yoda_route53", "--zone-id", zone_id, "--record-name", f"proxy.{zone}"]
    argv += ["--etcd", cluster.etcd_url, "--base", cluster.base, "--interval", "2", "--ttl", "5"]
    env = {**os.environ, **AWS_ENV, "TOTEM_LOG_FORMAT": "kv"}
    route53 = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def published() -> set[str]:
        sets = aws.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        return {r["ResourceRecords"][0]["Value"] for r in sets if r["Type"] == "A"}

    try:
        edges = {edge.address for edge in cluster.edges}
        wait(lambda: published() == edges, 60, 0.5, what="both edge hosts published")
        lost = cluster.edges[-1]
        cluster.kill_host(lost)
        wait(lambda: published() == edges - {lost.address}, 60, 0.5, what="the lost edge host unpublished")
    finally:
        route53.terminate()
        route53.wait(15)
        records = aws.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        changes = [{"Action": "DELETE", "ResourceRecordSet": r} for r in records if r["Type"] not in ("NS", "SOA")]
        if changes:
            aws.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
        aws.delete_hosted_zone(Id=zone_id)


def test_a_host_lost_under_load_is_routed_around_and_its_instances_replaced(cluster, deployer, tag):
    app = f"loss-{uuid.uuid4().hex[:8]}"
    record = deployer.promoted(app, "v1", tag, nodes=3)
    victim = cluster.hosts[-1]  # neither an edge nor the swarm manager
    assert victim.docker_url in {where["host"] for where in record["instances"].values()}
    with edge_loads(cluster, f"{app}.localhost") as loads:
        lost_at = time.monotonic()
        cluster.kill_host(victim)
        wait(lambda: victim.address not in addresses(deployer, record), 30, 0.1, what="its endpoints gone from etcd")
        gone_after = time.monotonic() - lost_at

        def restored() -> bool:
            hosts = [where["host"] for where in deployer.deployment(record["id"])["instances"].values()]
            return len(hosts) == 3 and victim.docker_url not in hosts and len(addresses(deployer, record)) == 3

        wait(restored, 120, 0.5, what="three instances again, on the remaining hosts")
        for load in loads:
            load.wait_for(30, 30)
        settled_at = time.monotonic()
        for load in loads:
            load.wait_for(30, 30)
    print(f"endpoints gone {gone_after:.2f} s after the loss; " + "; ".join(load.summary() for load in loads))
    # at most the one request each load had in flight on the lost host fails; none once it is routed around
    assert sum(load.failed for load in loads) <= len(loads), [load.summary() for load in loads]
    assert all(when < settled_at for load in loads for when, _what in load.failures)
