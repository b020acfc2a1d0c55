"""The scheduler interface: deploy, start, status, stop, destroy — one adapter per backend — and,
for scheduled jobs, prepare_job and run_once (deployer/job_runs.py decides when)."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from totem.contracts.labels import instance_labels, run_labels

Record = dict[str, Any]
OUTPUT_LIMIT = 4096  # bytes of a run's output kept (the end of it)


@dataclass(frozen=True)
class Instance:
    node: str  # unique instance name (the `totem.node` label)
    deployment: str  # deployment id
    running: bool
    host: str = ""  # where it runs: the Docker host (docker), the node's address (swarm)
    address: str = ""  # the address it is reached at, when the scheduler knows it


@dataclass(frozen=True)
class RunResult:
    """One run of a scheduled job."""

    exit_code: int | None  # None: it did not finish (killed at the timeout, or never started)
    output: str  # the tail of its stdout and stderr, at most OUTPUT_LIMIT bytes
    started: str  # records.now() format
    finished: str
    host: str
    error: str | None = None  # why there is no exit code


class Scheduler(ABC):
    name: str
    runs_schedules = False  # True: the backend runs scheduled jobs itself (fleet: systemd timers)

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
        """Every instance this cluster runs for `app` (exact name), for reconcile; a scheduled job's
        runs are not instances."""

    def prepare_job(self, record: Record) -> dict:
        """Put a scheduled job's definition in place without running it (its image on the hosts);
        details for the timeline. Raises when it cannot be run."""
        raise NotImplementedError(f"the {self.name} scheduler runs no scheduled jobs itself")

    def run_once(self, record: Record, run_id: str, environment: dict[str, str], timeout: float) -> RunResult:
        """Run the job once to its end (killed after `timeout` s), no restart, nothing left behind;
        `environment` is decrypted."""
        raise NotImplementedError(f"the {self.name} scheduler runs no scheduled jobs itself")


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
        syslog=record["spec"].get("syslog", ""),  # records made before log shipping have none
    )


def job_labels(record: Record, run_id: str, name: str) -> dict[str, str]:
    """The contract's labels (totem/contracts/labels.py) of one run of the scheduled job."""
    return run_labels(
        app=record["app"],
        version=record["version"],
        node=name,
        deployment=record["id"],
        cluster=record["cluster"],
        run=run_id,
    )


def output_tail(raw: bytes) -> str:
    """The last OUTPUT_LIMIT bytes of a run's output as text."""
    return raw[-OUTPUT_LIMIT:].decode("utf-8", errors="replace")


def run_name(record: Record, run_id: str) -> str:
    """A run's container or service name: unique, a DNS label (swarm service names are), at most 53 characters."""
    digest = hashlib.sha256(f"{record['id']}/{run_id}".encode()).hexdigest()[:12]
    return f"{record['app'][:36].rstrip('-')}-run-{digest}"
