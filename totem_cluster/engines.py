"""One dockerd per host (TLS on the host address, a unix socket for local use) and the Swarm
they form: h1 the manager, the others workers; nodes labelled totem.host=<name>, edge=true."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import docker

from totem_cluster.hosts import DOCKER_TLS_PORT, Host, Proc
from totem_stack import health, packages, process, services

# A dead host should lose its containers, as a real one does (and Swarm refuses live-restore).
DAEMON_CONFIG = {**services.DAEMON_CONFIG, "live-restore": False}
SWARM_PORT = 2377
# Overlay subnets, away from the hosts' own 10.213.0.0/24.
ADDRESS_POOL = "10.214.0.0/16"


def dockerd(host: Host, certs: Path) -> Proc:
    server = certs / "server" / host.name
    config = host.root / "daemon.json"
    program = packages.find_binary("dockerd") or "dockerd"
    tcp = f"tcp://{host.address}:{DOCKER_TLS_PORT}"
    listen = services.dockerd_argv(
        program, host.root / "docker", host.exec_root, host.run_dir / "dockerd.pid", config, host.docker_socket, tcp
    )
    tls = ("--tlsverify", "--tlscacert", str(certs / "ca.pem"))
    argv = [*listen, *tls, "--tlscert", str(server / "cert.pem"), "--tlskey", str(server / "key.pem")]
    healthy = partial(health.docker_ping, host.docker_socket)
    return Proc("dockerd", argv, host.docker_url, healthy, 60.0, {config: json.dumps(DAEMON_CONFIG) + "\n"})


def clean_leftovers(host: Host) -> None:
    """What a killed dockerd leaves: containerd (its own session), mounts under the exec root, and
    pid files naming processes that are gone or zombies (dockerd would take those as running)."""
    for pid in process.find_processes(str(host.exec_root), "containerd"):
        process.stop(pid, timeout=5)
    process.unmount_under(str(host.exec_root))
    for pid_file in (host.run_dir / "dockerd.pid", host.exec_root / "containerd" / "containerd.pid"):
        recorded = process.read_pid(pid_file)
        if recorded is not None and not process.is_alive(recorded):
            pid_file.unlink(missing_ok=True)


def client(host: Host) -> docker.DockerClient:
    return docker.DockerClient(base_url=host.docker_socket, timeout=30)


def _swarm_state(engine: docker.DockerClient) -> str:
    return engine.info()["Swarm"]["LocalNodeState"]


def form_swarm(hosts: list[Host]) -> list[str]:
    """Init on hosts[0], join the others, label every node; what changed, one line each."""
    manager, changes = client(hosts[0]), []
    try:
        if _swarm_state(manager) == "inactive":
            address = hosts[0].address
            manager.swarm.init(
                advertise_addr=address,
                listen_addr=f"{address}:{SWARM_PORT}",
                default_addr_pool=[ADDRESS_POOL],
                subnet_size=24,
            )
            changes.append(f"{hosts[0].name} initialised the swarm (manager)")
        token = manager.swarm.attrs["JoinTokens"]["Worker"]  # each `.swarm` is read afresh
        for host in hosts:
            engine = client(host)
            try:
                if _swarm_state(engine) == "inactive":
                    engine.swarm.join(
                        remote_addrs=[f"{hosts[0].address}:{SWARM_PORT}"],
                        join_token=token,
                        listen_addr=f"{host.address}:{SWARM_PORT}",
                        advertise_addr=host.address,
                    )
                    changes.append(f"{host.name} joined the swarm (worker)")
                if _label(manager, engine.info()["Swarm"]["NodeID"], host):
                    changes.append(f"{host.name} labelled")
            finally:
                engine.close()
    finally:
        manager.close()
    return changes


def _label(manager: docker.DockerClient, node_id: str, host: Host) -> bool:
    node = manager.nodes.get(node_id)
    spec = node.attrs["Spec"]
    wanted = {"totem.host": host.name, **({"edge": "true"} if host.edge else {})}
    labels = spec.get("Labels") or {}
    if all(labels.get(key) == value for key, value in wanted.items()):
        return False
    return node.update({**spec, "Labels": {**labels, **wanted}})


def ready_nodes(manager: Host) -> int:
    """Swarm nodes the manager sees Ready; 0 when it does not answer."""
    try:
        engine = client(manager)
    except docker.errors.DockerException:
        return 0
    try:
        return sum(node.attrs["Status"]["State"] == "ready" for node in engine.nodes.list())
    except Exception:  # no swarm, or the engine went away
        return 0
    finally:
        engine.close()
