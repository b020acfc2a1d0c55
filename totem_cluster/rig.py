"""The local multi-host rig: hosts as network namespaces on a bridge, each with its own dockerd
(TLS), joined into one Swarm, a 3-member etcd over them, the registry relayed into each, and the
yoda sidekicks. `up` is idempotent; `down` removes what `up` made, and nothing else."""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from totem.settings import Settings
from totem.waiting import WaitTimeout, wait
from totem_cluster import certs, engines, etcd, launch, network, relay, sidekicks, teardown
from totem_cluster.hosts import RUN_ROOT, Host, Proc
from totem_cluster.launch import StartFailed, say
from totem_cluster.state import State, exclusive
from totem_stack import packages, process
from totem_stack.services import host_port

__all__ = ["Cluster", "Host", "RigError", "StartFailed"]

# Debian package -> a program of it the rig runs
REQUIRED = {
    "iproute2": "ip",
    "util-linux": "nsenter",
    "docker.io": "dockerd",
    "etcd-server": "etcd",
    "haproxy": "haproxy",
}
ROOT = "root"  # where the relay runs: the root namespace
DAEMONS = ("dockerd", "etcd")  # started first, together; the sidekicks need both


class RigError(RuntimeError):
    pass


@dataclass
class Cluster:
    home: Path
    hosts: list[Host]
    base: str = "/yoda"  # YODA_BASE of the sidekicks
    registry_port: int = 5000
    gateway: str = network.GATEWAY

    @property
    def certs(self) -> Path:
        return self.home / "certs"

    @property
    def manager(self) -> Host:
        return self.hosts[0]

    @property
    def edges(self) -> list[Host]:
        return [host for host in self.hosts if host.edge]

    @property
    def etcd_url(self) -> str:
        return etcd.url(self.hosts)

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.registry_port}"

    @property
    def state(self) -> State:
        return State(self.home)

    def docker_env(self) -> dict[str, str]:
        return {
            "TOTEM_DOCKER_HOSTS": ",".join(host.docker_url for host in self.hosts),
            "TOTEM_DOCKER_CERTS": str(self.certs / "client"),
            "TOTEM_SWARM_HOST": self.manager.docker_url,
            "TOTEM_ETCD_URL": self.etcd_url,
        }

    # -- layout ------------------------------------------------------------------------

    @classmethod
    def _layout(cls, settings: Settings, nodes: int, base: str, registry_port: int) -> Cluster:
        home = settings.home.expanduser().absolute() / "cluster"
        return cls(home, [Host.make(index, home) for index in range(1, nodes + 1)], base, registry_port)

    @classmethod
    def load(cls, settings: Settings) -> Cluster | None:
        data = State(settings.home.expanduser().absolute() / "cluster").read()
        if not data.get("nodes"):
            return None
        base, port = data.get("base", "/yoda"), int(data.get("registry_port", 5000))
        return cls._layout(settings, int(data["nodes"]), base, port)

    def procs(self, host: Host) -> list[Proc]:
        """What runs on `host`, in start order."""
        found = [engines.dockerd(host, self.certs)]
        if host in etcd.members(self.hosts):
            found.append(etcd.member(host, self.hosts))
        return found + sidekicks.for_host(host, self.etcd_url, self.base)

    def _relay(self) -> Proc:
        paths = [host.netns_path for host in self.hosts]
        ready = partial(relay.listening, paths, self.registry_port)
        return Proc("relay", relay.command(paths, self.registry_port), self.registry, ready, 15.0)

    # -- processes ---------------------------------------------------------------------

    def nsenter(self, host: Host, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net={host.netns_path}", *argv]

    def spawn(self, host: Host, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        prefix = tuple(self.nsenter(host, []))
        return launch.start(self.state, f"{host.name}/{name}", argv, host.log(name), host.root, prefix, env)

    def _ensure(self, host: Host, proc: Proc) -> launch.Pending:
        if proc.name == "dockerd" and self.state.running(f"{host.name}/dockerd") is None:
            engines.clean_leftovers(host)  # a killed engine's containerd and mounts
        host.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return launch.ensure(self.state, host.name, proc, host.log(proc.name), host.root, tuple(self.nsenter(host, [])))

    def kill_host(self, host: Host) -> list[int]:
        """Power loss: the link goes down, then every process of the host dies at once (SIGKILL),
        containers (in namespaces of their own, children of the host's shims) included."""
        if network.link_exists(network.veth_name(host.index)):
            network.set_link(host.index, up=False)
        return teardown.kill_all(host)

    def stop_etcd(self, host: Host) -> None:
        pid = self.state.running(f"{host.name}/etcd")
        if pid is not None:
            teardown.kill(pid)

    def start_etcd(self, host: Host) -> None:
        launch.await_all([self._ensure(host, etcd.member(host, self.hosts))], None)

    # -- status ------------------------------------------------------------------------

    def status(self) -> list[dict]:
        entries = [_entry(ROOT, "bridge", None, network.link_exists(network.BRIDGE), f"{self.gateway}/24")]
        known = set()
        for host in self.hosts:
            entries.append(_entry(host.name, "network", None, network.host_ready(host.index), host.address))
            for proc in self.procs(host):
                known.add(f"{host.name}/{proc.name}")
                entries.append(self._proc_entry(host.name, proc))
        known.add(f"{ROOT}/relay")
        entries.append(self._proc_entry(ROOT, self._relay()))
        ready = engines.ready_nodes(self.manager)
        entries.append(_entry(ROOT, "swarm", None, ready == len(self.hosts), f"{ready}/{len(self.hosts)} nodes ready"))
        for key in self.state.processes().keys() - known:  # what callers spawned, while it runs
            if (pid := self.state.running(key)) is not None:
                where, name = key.split("/", 1)
                entries.append(_entry(where, name, pid, True, ""))
        return entries

    def _proc_entry(self, where: str, proc: Proc) -> dict:
        pid = self.state.running(f"{where}/{proc.name}")
        alive = pid is not None and (proc.healthy is None or proc.healthy())
        return _entry(where, proc.name, pid, alive, proc.address)

    # -- up ----------------------------------------------------------------------------

    @classmethod
    def up(cls, settings: Settings, nodes: int = 3, out: TextIO | None = sys.stdout) -> Cluster:
        if os.geteuid() != 0:
            raise RigError("the cluster needs root (network namespaces, dockerd)")
        if nodes < 1:
            raise RigError("--nodes must be 1 or more")
        if not packages.ensure(REQUIRED, out or sys.stderr, as_root=True):
            raise RigError(f"missing programs: {', '.join(packages.missing(REQUIRED))}")
        registry_port = host_port(settings.registry, 5000)[1]
        cluster = cls._layout(settings, nodes, settings.yoda_base, registry_port)
        with exclusive(cluster.home):
            recorded = cluster.state.read().get("nodes")
            if recorded and recorded != nodes:
                raise RigError(f"a cluster of {recorded} nodes exists: `totem cluster down` first")
            with cluster.state.changing() as data:  # first, so that `down` knows what to remove
                hosts = [asdict(host) for host in cluster.hosts]
                data.update(nodes=nodes, base=cluster.base, registry_port=registry_port, hosts=hosts)
            cluster._up(out)
        return cluster

    def _up(self, out: TextIO | None) -> None:
        made = network.ensure_bridge()
        say(out, ROOT, "bridge", f"{self.gateway}/24", f"{network.BRIDGE} {'created' if made else 'exists'}")
        for host in self.hosts:
            made = network.ensure_host(host.index)
            say(out, host.name, "network", host.address, f"{host.netns} {'created' if made else 'exists'}")
        certs.ensure(self.certs, [(host.name, host.address) for host in self.hosts])
        say(out, ROOT, "certs", "", f"{self.certs}: CA, a server and a client certificate per host")
        relayed = launch.ensure(self.state, ROOT, self._relay(), self.home / "log" / "relay.log", self.home)
        daemons = [(host, proc) for host in self.hosts for proc in self.procs(host) if proc.name in DAEMONS]
        launch.await_all([relayed, *(self._ensure(host, proc) for host, proc in daemons)], out)
        for change in engines.form_swarm(self.hosts):
            say(out, ROOT, "swarm", "", change)
        self._await_swarm(out)
        rest = [(host, proc) for host in self.hosts for proc in self.procs(host) if proc.name not in DAEMONS]
        launch.await_all([self._ensure(host, proc) for host, proc in rest], out)

    def _await_swarm(self, out: TextIO | None) -> None:
        try:
            wait(lambda: engines.ready_nodes(self.manager) == len(self.hosts), 60, 0.2, what="every swarm node ready")
        except WaitTimeout as late:
            raise RigError(str(late)) from None
        say(out, ROOT, "swarm", self.manager.address, f"nodes ready: {len(self.hosts)}, manager {self.manager.name}")

    # -- down --------------------------------------------------------------------------

    def down(self, out: TextIO | None = sys.stdout) -> None:
        with exclusive(self.home):
            records = {key: self.state.running(key) for key in self.state.processes()}
            running = {key: pid for key, pid in records.items() if pid is not None}
            with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
                results = pool.map(partial(process.stop, timeout=10), running.values())
                stopped = dict(zip(running, results, strict=True))
            for key, pid in running.items():
                where, name = key.split("/", 1)
                say(out, where, name, "", f"stopped (pid {pid})" if stopped[key] else f"FAILED to stop pid {pid}")
            for host in self.hosts:
                self._remove_host(host, out)
            network.remove_bridge()
            say(out, ROOT, "bridge", "", f"{network.BRIDGE} removed")
            self._remove_dirs(out)

    def _remove_host(self, host: Host, out: TextIO | None) -> None:
        leftovers = teardown.kill_all(host)
        engines.clean_leftovers(host)
        for root in (host.run_dir, host.root):
            teardown.unmount(root)
        network.remove_host(host.index)
        extra = f", {len(leftovers)} leftover processes killed" if leftovers else ""
        say(out, host.name, "network", host.address, f"{host.netns} removed{extra}")

    def _remove_dirs(self, out: TextIO | None) -> None:
        mounted = [point for root in (self.home, RUN_ROOT) for point in process.mounts_under(str(root))]
        if mounted:  # never delete through a mount point
            raise RigError(f"still mounted, left in place: {', '.join(mounted[:5])}")
        for host in self.hosts:
            shutil.rmtree(host.run_dir, ignore_errors=True)
        if RUN_ROOT.exists() and not any(RUN_ROOT.iterdir()):
            RUN_ROOT.rmdir()
        shutil.rmtree(self.home, ignore_errors=True)
        say(out, ROOT, "files", "", f"{self.home} and {RUN_ROOT} removed")


def _entry(host: str, name: str, pid: int | None, alive: bool, address: str) -> dict:
    return {"host": host, "name": name, "pid": pid, "alive": alive, "address": address}
