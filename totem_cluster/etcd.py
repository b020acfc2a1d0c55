"""The rig's etcd: three members on h1..h3 (one on h1 when there are fewer than three hosts), from
a static initial cluster; a member restarted on its data directory rejoins."""

from __future__ import annotations

from functools import partial

from totem_cluster.hosts import Host, Proc
from totem_stack import health, packages
from totem_stack.services import etcd_argv

PEER_PORT = 2380
TOKEN = "totem-cluster"


def members(hosts: list[Host]) -> list[Host]:
    return hosts[:3] if len(hosts) >= 3 else hosts[:1]


def peer_url(host: Host) -> str:
    return f"http://{host.address}:{PEER_PORT}"


def url(hosts: list[Host]) -> str:
    """The store URL naming every member: etcd://a:2379,b:2379,c:2379."""
    return "etcd://" + ",".join(member.etcd_client.removeprefix("http://") for member in members(hosts))


def member(host: Host, hosts: list[Host]) -> Proc:
    initial = ",".join(f"{peer.name}={peer_url(peer)}" for peer in members(hosts))
    flags = ("--logger=zap", "--initial-cluster-token", TOKEN, "--initial-cluster-state", "new")
    argv = etcd_argv(host.name, host.root / "etcd", host.etcd_client, peer_url(host), *flags, cluster=initial)
    binary = packages.find_binary("etcd") or "etcd"
    return Proc("etcd", [binary, *argv[1:]], host.etcd_client, partial(health.etcd, host.etcd_client), 30.0)
