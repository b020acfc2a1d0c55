"""The scheduler interface: deploy, start, status, stop, destroy — one adapter per backend."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from totem.contracts.labels import instance_labels

Record = dict[str, Any]


@dataclass(frozen=True)
class Instance:
    node: str  # unique instance name (the `totem.node` label)
    deployment: str  # deployment id
    running: bool
    host: str = ""  # where it runs: the Docker host (docker), the node's address (swarm)
    address: str = ""  # the address it is reached at, when the scheduler knows it


class Scheduler(ABC):
    name: str

    def place(self, record: Record) -> dict[str, dict]:
        """{node: {"host", "address", "port"}} for every instance the record asks for (spread over hosts).
        Called once per deployment; the result is stored in the record before `deploy`."""
        raise NotImplementedError

    def unavailable(self) -> list[str]:
        """The hosts placement skipped because they do not answer ("<host> (not answering)")."""
        return []

    def relocate(self, record: Record) -> dict[str, dict]:
        """New places ({node: {"host", "address", "port"}}, ports reserved) for the instances whose
        host does not answer, on hosts that do; {} when nothing moves or the backend moves them itself."""
        return {}

    def remove_stray(self, record: Record, instance: Instance) -> bool:
        """Remove `instance` if it is a copy left where the record no longer places it (its host,
        back, still runs an instance that was moved); True when it was one."""
        return False

    @abstractmethod
    def deploy(self, record: Record, environment: dict[str, str]) -> None:
        """Create (or submit) the instances that do not exist yet; `environment` is decrypted."""

    @abstractmethod
    def start(self, record: Record) -> None: ...

    @abstractmethod
    def status(self, record: Record) -> list[Instance]: ...

    @abstractmethod
    def stop(self, record: Record) -> None: ...

    @abstractmethod
    def destroy(self, record: Record) -> None:
        """Remove every instance of the deployment (safe when some or all are already gone)."""

    @abstractmethod
    def instances(self, app: str) -> list[Instance]:
        """Every instance this cluster runs for `app` (exact name), for reconcile."""


def labels(record: Record, node: str, port: int) -> dict[str, str]:
    """The contract's labels (totem/contracts/labels.py) of one instance of the deployment."""
    return instance_labels(
        app=record["app"],
        version=record["version"],
        upstream=record["upstream"],
        port=port,
        node=node,
        health=record["spec"]["check_path"],
        deployment=record["id"],
        cluster=record["cluster"],
    )
