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
    host: str = ""  # scheduler host the instance runs on


class Scheduler(ABC):
    name: str

    def place(self, record: Record) -> dict[str, dict]:
        """{node: {"host", "address", "port"}} for every instance the record asks for (spread over hosts).
        Called once per deployment; the result is stored in the record before `deploy`."""
        raise NotImplementedError

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
