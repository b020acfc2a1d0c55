"""yoda-route53 against the real etcd and the moto server standing in for Route53."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid

import boto3
import pytest

from totem.contracts import yoda
from totem.waiting import wait
from yoda_route53.leader import Leader
from yoda_route53.reconciler import Reconciler
from yoda_route53.records import RecordSpec
from yoda_route53.zone import Zone

pytest_plugins = ["tests.images.fixtures"]

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5001"),
}


@pytest.fixture
def aws(monkeypatch):
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, os.environ.get(name, value))
    return boto3.client("route53", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


@pytest.fixture
def zone(aws):
    """A hosted zone of the test's own, emptied and deleted afterwards."""
    name = f"t{uuid.uuid4().hex[:10]}.test."
    zone_id = aws.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]
    yield Zone(aws, zone_id)
    sets = aws.list_resource_record_sets(HostedZoneId=zone_id, MaxItems="1000")["ResourceRecordSets"]
    changes = [{"Action": "DELETE", "ResourceRecordSet": r} for r in sets if r["Type"] not in ("NS", "SOA")]
    if changes:
        aws.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    aws.delete_hosted_zone(Id=zone_id)


@pytest.fixture
def spec(zone):
    return RecordSpec("proxy." + zone.name(), owner_id="test")


@pytest.fixture
def leaders(yoda_store, yoda_base, zone):
    running = []

    def start(spec: RecordSpec, interval: float = 30.0) -> tuple[Leader, threading.Event]:
        leader = Leader(yoda_store, yoda_base, Reconciler(zone, spec), interval=interval, debounce=0.05, lock_ttl=2)
        done = threading.Event()
        thread = threading.Thread(target=leader.run, args=(done,), daemon=True)
        thread.start()
        running.append((done, thread))
        return leader, done

    yield start
    for done, thread in running:
        done.set()
        thread.join(10)
        assert not thread.is_alive()


def put_node(yoda_store, yoda_base, node, address, lease=None):
    info = {"address": address, "http": 8080, "https": 8443, "admin": 8081}
    yoda_store.put(yoda.proxy_node_info_key(yoda_base, node), json.dumps(info), lease)


def records(zone, spec):
    """{SetIdentifier: value} of the A/CNAME record sets under the record name."""
    return {
        r["SetIdentifier"]: r["ResourceRecords"][0]["Value"]
        for r in zone.record_sets(spec.name)
        if r["Type"] == spec.type
    }


def owners(zone, spec):
    return {r["SetIdentifier"] for r in zone.record_sets(spec.owner_name)}


def test_records_appear_and_follow_node_changes(yoda_store, yoda_base, zone, spec, leaders):
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11")
    leaders(spec)
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11"}, timeout=10)
    assert owners(zone, spec) == {"proxy-a"}
    put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11", "proxy-b": "127.0.0.12"}, timeout=10)
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.21")
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.21", "proxy-b": "127.0.0.12"}, timeout=10)
    yoda_store.delete_prefix(yoda.proxy_node_prefix(yoda_base, "proxy-b"))
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.21"}, timeout=10)
    assert owners(zone, spec) == {"proxy-a"}


def test_lease_expiry_of_a_node_removes_its_record(yoda_store, yoda_base, zone, spec, leaders):
    lease = yoda_store.lease(2)
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11", lease)
    put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")
    leaders(spec)
    wait(lambda: set(records(zone, spec)) == {"proxy-a", "proxy-b"}, timeout=10)
    wait(lambda: records(zone, spec) == {"proxy-b": "127.0.0.12"}, timeout=20)  # never refreshed


def test_full_reconcile_repairs_changes_made_behind_its_back(aws, yoda_store, yoda_base, zone, spec, leaders):
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11")
    put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")
    leader, _ = leaders(spec, interval=0.5)
    wait(lambda: set(records(zone, spec)) == {"proxy-a", "proxy-b"}, timeout=10)
    current = {r["SetIdentifier"]: r for r in zone.record_sets(spec.name)}
    zone.change(
        [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {**current["proxy-a"], "ResourceRecords": [{"Value": "127.0.0.99"}]},
            },
            {"Action": "DELETE", "ResourceRecordSet": current["proxy-b"]},
        ]
    )
    assert records(zone, spec) == {"proxy-a": "127.0.0.99"}
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11", "proxy-b": "127.0.0.12"}, timeout=15)


def test_foreign_records_are_left_alone(yoda_store, yoda_base, zone, spec, leaders):
    foreign = [
        spec.record_set("someone-else", "127.0.0.50"),  # no ownership record at all
        spec.record_set("proxy-a", "127.0.0.51"),  # same SetIdentifier as a live node, not ours
        {**spec.owner_record_set("proxy-c"), "ResourceRecords": [{"Value": '"heritage=external-dns,owner=x"'}]},
        spec.record_set("proxy-c", "127.0.0.52"),  # owned by another tool
        {"Name": "www." + zone.name(), "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "127.0.0.53"}]},
    ]
    zone.change([{"Action": "CREATE", "ResourceRecordSet": r} for r in foreign])
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11")
    put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")
    leader, _ = leaders(spec, interval=0.3)
    wait(lambda: "proxy-b" in records(zone, spec), timeout=10)
    reconciles = leader.reconciles
    wait(lambda: leader.reconciles >= reconciles + 2, timeout=10)  # full reconciles ran since
    yoda_store.delete_prefix(yoda.proxy_node_prefix(yoda_base, "proxy-b"))
    wait(lambda: "proxy-b" not in records(zone, spec), timeout=10)
    assert records(zone, spec) == {"someone-else": "127.0.0.50", "proxy-a": "127.0.0.51", "proxy-c": "127.0.0.52"}
    assert [r["ResourceRecords"] for r in zone.record_sets("www." + zone.name())] == [[{"Value": "127.0.0.53"}]]
    assert owners(zone, spec) == {"proxy-c"}


def test_multivalue_records(yoda_store, yoda_base, zone, leaders):
    spec = RecordSpec("mv." + zone.name(), routing="multivalue", owner_id="test")
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11")
    leaders(spec)
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11"}, timeout=10)
    assert all(r.get("MultiValueAnswer") for r in zone.record_sets(spec.name))


def test_cname_records(yoda_store, yoda_base, zone, leaders):
    spec = RecordSpec("lb." + zone.name(), "CNAME", owner_id="test")
    put_node(yoda_store, yoda_base, "proxy-a", "proxy-a.hosts.test")
    put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")  # an address, kept as a host name too
    leaders(spec)
    wait(lambda: records(zone, spec) == {"proxy-a": "proxy-a.hosts.test", "proxy-b": "127.0.0.12"}, timeout=10)
    assert {r["Type"] for r in zone.record_sets(spec.name)} == {"CNAME"}


def test_many_nodes_go_out_in_several_batches(zone, spec):
    nodes = {f"proxy-{i:04d}": f"127.0.{i // 250}.{i % 250 + 1}" for i in range(280)}
    reconciler = Reconciler(zone, spec)
    assert reconciler.reconcile(nodes) == 560  # 1120 records (an UPSERT counts twice): 2 batches
    assert records(zone, spec) == nodes
    assert reconciler.reconcile(nodes) == 0
    assert reconciler.reconcile({}) == 560
    assert records(zone, spec) == {}


def test_one_leader_writes_and_another_takes_over(yoda_store, yoda_base, zone, spec, leaders):
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11")
    first, first_done = leaders(spec)
    wait(first.leading.is_set, timeout=10)
    second, _ = leaders(spec)
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11"}, timeout=10)
    assert not second.leading.is_set()
    first_done.set()
    wait(second.leading.is_set, timeout=15)
    put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")
    wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11", "proxy-b": "127.0.0.12"}, timeout=10)


def test_cli_once_and_watch(settings, yoda_store, yoda_base, zone, spec):
    put_node(yoda_store, yoda_base, "proxy-a", "127.0.0.11")
    command = [
        sys.executable,
        "-m",
        "yoda_route53",
        "--zone-id",
        zone.id,
        "--record-name",
        spec.name,
        "--owner-id",
        "test",
        "--etcd",
        settings.etcd_url,
        "--base",
        yoda_base,
    ]
    once = subprocess.run([*command, "--once"], capture_output=True, timeout=60)
    assert once.returncode == 0, once.stderr
    assert records(zone, spec) == {"proxy-a": "127.0.0.11"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        put_node(yoda_store, yoda_base, "proxy-b", "127.0.0.12")
        wait(lambda: records(zone, spec) == {"proxy-a": "127.0.0.11", "proxy-b": "127.0.0.12"}, timeout=20)
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_rejects_a_name_outside_the_zone(zone):
    result = subprocess.run(
        [sys.executable, "-m", "yoda_route53", "--zone-id", zone.id, "--record-name", "proxy.elsewhere.test", "--once"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2 and b"not in zone" in result.stderr
