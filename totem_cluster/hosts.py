"""What a rig host is (names, addresses, paths) and what a process on it is (argv, health)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from totem_cluster import network

DOCKER_TLS_PORT = 2376
EDGES = 2  # h1 and h2 run a proxy
# Unix socket paths must fit in 108 bytes: dockerd's and containerd's live under this short root.
RUN_ROOT = Path("/run/totem-cluster")


@dataclass(frozen=True)
class Host:
    name: str
    index: int
    address: str
    edge: bool
    netns: str
    root: Path  # its dockerd data, etcd data, logs
    docker_url: str  # TLS listener on the host address
    docker_socket: str  # unix socket of the same engine, for the sidekicks
    etcd_client: str

    @property
    def netns_path(self) -> str:
        return network.netns_path(self.netns)

    @property
    def run_dir(self) -> Path:
        """Short directory holding the socket and the exec root."""
        return Path(self.docker_socket.removeprefix("unix://")).parent

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    def log(self, name: str) -> Path:
        return self.root / "log" / f"{name}.log"

    @classmethod
    def make(cls, index: int, home: Path, run_root: Path = RUN_ROOT) -> Host:
        name, address = f"h{index}", network.address(index)
        return cls(
            name=name,
            index=index,
            address=address,
            edge=index <= EDGES,
            netns=network.netns_name(index),
            root=home / name,
            docker_url=f"tcp://{address}:{DOCKER_TLS_PORT}",
            docker_socket=f"unix://{run_root / name / 'docker.sock'}",
            etcd_client=f"http://{address}:2379",
        )


@dataclass(frozen=True)
class Proc:
    """A long-running process of the rig: started when not running, healthy when `healthy()`."""

    name: str
    argv: list[str]
    address: str = ""
    healthy: Callable[[], bool] | None = field(default=None, compare=False)  # None: up while it runs
    timeout: float = 30.0  # seconds to become healthy
    files: dict[Path, str] = field(default_factory=dict)  # written before starting
