"""The rig itself is real: a 3-node Swarm, engines behind TLS client certificates, a 3-member etcd,
the registry reachable from every host, HAProxy on both edges; a host can be killed and brought
back, and `down` leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import docker
import pytest
import requests

from tests.images import busybox_httpd
from totem.settings import Settings
from totem.store import StoreUnavailable, connect
from totem.waiting import wait
from totem_cluster import certs, engines, network
from totem_cluster.hosts import RUN_ROOT
from totem_cluster.rig import Cluster
from totem_cluster.sidekicks import HTTP_PORT

http = requests.Session()
http.trust_env = False  # only ever the rig's own addresses, never through a proxy from the environment


def client_files(cluster: Cluster, address: str) -> tuple[Path, tuple[str, str]]:
    folder = cluster.certs / "client" / address
    return folder / "ca.pem", (str(folder / "cert.pem"), str(folder / "key.pem"))


def engine_version(address: str, ca: Path | bool, cert: tuple[str, str] | None) -> dict:
    return http.get(f"https://{address}:2376/version", verify=str(ca), cert=cert, timeout=5).json()


def settings_of(cluster: Cluster) -> Settings:
    return Settings.from_env({"TOTEM_HOME": str(cluster.home.parent), "YODA_BASE": cluster.base})


def test_the_swarm_has_every_host_ready_one_manager_and_labels(cluster):
    manager = engines.client(cluster.manager)
    nodes = manager.nodes.list()
    assert sorted(node.attrs["Status"]["State"] for node in nodes) == ["ready"] * 3
    assert [node.attrs["Spec"]["Role"] for node in nodes].count("manager") == 1
    labels = {node.attrs["Status"]["Addr"]: node.attrs["Spec"].get("Labels", {}) for node in nodes}
    for host in cluster.hosts:
        wanted = {"totem.host": host.name, **({"edge": "true"} if host.edge else {})}
        assert labels[host.address] == wanted


def test_each_engine_answers_over_tls_only_to_a_client_of_the_rig_ca(cluster, tmp_path):
    stranger = certs.Authority(tmp_path, "another-ca")
    other = stranger.issue(tmp_path / "client", "stranger")
    for host in cluster.hosts:
        ca, cert = client_files(cluster, host.address)
        tls = docker.tls.TLSConfig(client_cert=cert, ca_cert=str(ca), verify=True)
        engine = docker.DockerClient(base_url=host.docker_url, tls=tls, timeout=10, version="1.41")
        engine.api.trust_env = False
        assert engine.info()["Swarm"]["NodeAddr"] == host.address  # this host's own engine
        assert engine_version(host.address, ca, cert)["Version"]
        with pytest.raises(requests.exceptions.ConnectionError):  # no client certificate
            engine_version(host.address, ca, None)
        with pytest.raises(requests.exceptions.ConnectionError):  # a client certificate of another CA
            engine_version(host.address, ca, (str(other / "cert.pem"), str(other / "key.pem")))
        with pytest.raises(requests.exceptions.SSLError):  # the server checked against another CA
            engine_version(host.address, stranger.cert_path, cert)
    assert oct((cluster.certs / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    assert oct((cluster.certs / "client" / cluster.manager.address / "key.pem").stat().st_mode & 0o777) == "0o600"


def test_etcd_has_three_members_and_they_share_one_keyspace(cluster):
    members = http.post(f"{cluster.hosts[0].etcd_client}/v3/cluster/member/list", json={}, timeout=5).json()
    started = sorted(member["name"] for member in members["members"] if member.get("clientURLs"))
    assert started == ["h1", "h2", "h3"]
    key, value = f"/test-{uuid.uuid4().hex[:12]}/rig", uuid.uuid4().hex
    first, last = (connect(f"etcd://{host.address}:2379") for host in (cluster.hosts[0], cluster.hosts[2]))
    try:
        first.put(key, value)
        assert last.get(key) == value
        assert connect(cluster.etcd_url).get(key) == value
    finally:
        first.delete(key)


def test_a_stopped_etcd_member_comes_back_on_its_data(cluster):
    member = cluster.hosts[1]
    cluster.stop_etcd(member)
    key = f"/test-{uuid.uuid4().hex[:12]}/while-down"
    store = connect(f"etcd://{cluster.hosts[0].address}:2379")
    try:
        # two of three members keep the quorum (once they have elected a leader, if it was the one stopped)
        wait(lambda: store.put(key, "1") or True, 15, 0.2, what="a write with h2 down", ignoring=(StoreUnavailable,))
        cluster.start_etcd(member)
        assert connect(f"etcd://{member.address}:2379").get(key) == "1"
    finally:
        store.delete(key)


def test_every_host_pulls_from_the_stack_registry_through_the_relay(cluster):
    stack = docker.DockerClient(base_url=Settings.from_env().docker_host, timeout=120)
    repository = f"{cluster.registry}/totem-test/rig-busybox"
    stack.images.get(busybox_httpd.build(stack)).tag(repository, "1")
    for line in stack.images.push(repository, "1", stream=True, decode=True):
        assert "error" not in line, line
    for host in cluster.hosts:
        engine = engines.client(host)
        try:
            assert f"{repository}:1" in engine.images.pull(repository, "1").tags
        finally:
            engine.images.remove(f"{repository}:1", force=True)


def test_both_edges_answer_http_with_haproxy(cluster):
    for edge in cluster.edges:
        response = http.get(f"http://{edge.address}:{HTTP_PORT}/", headers={"Host": "nothing.localhost"}, timeout=5)
        assert response.status_code == 404 and "No application is published" in response.text
    with pytest.raises(requests.exceptions.ConnectionError):  # no proxy on a host that is not an edge
        http.get(f"http://{cluster.hosts[2].address}:{HTTP_PORT}/", timeout=5)


def test_a_killed_host_keeps_no_process_and_up_brings_it_back(cluster):
    victim = cluster.hosts[2]
    killed = cluster.kill_host(victim)
    assert killed and network.netns_pids(victim.netns) == set()
    assert not any(entry["alive"] for entry in cluster.status() if entry["host"] == victim.name)
    Cluster.up(settings_of(cluster), len(cluster.hosts), out=None)
    wait(lambda: all(entry["alive"] for entry in cluster.status()), 60, 0.5, what="the rig whole again")


def ours_left(cluster: Cluster) -> list[str]:
    """The rig's namespaces, links, mounts and processes that still exist."""
    names = {host.netns for host in cluster.hosts} | {network.BRIDGE}
    names |= {network.veth_name(host.index) for host in cluster.hosts}
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    listed += subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout.split("\n")
    found = [line.split()[0].split("@")[0] for line in listed if line.strip()]
    found = [name for name in found if name in names]
    marks = (str(cluster.home), str(RUN_ROOT), "/run/netns/totem-h", "totem_cluster.relay")
    found += [
        line.split()[1] for line in Path("/proc/mounts").read_text().splitlines() if any(m in line for m in marks)
    ]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(mark in args for mark in marks):
            found.append(f"pid {proc.name}: {args[:100]}")
    return found


def test_down_leaves_nothing_and_up_works_again(cluster):
    cluster.down(out=sys.stdout)
    assert ours_left(cluster) == []
    assert not cluster.home.exists() and not RUN_ROOT.exists()
    again = Cluster.up(settings_of(cluster), len(cluster.hosts), out=sys.stdout)
    assert all(entry["alive"] for entry in again.status())
