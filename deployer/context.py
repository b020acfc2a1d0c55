"""Everything a request or task needs, built once per process from the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from deployer.engine_pool import EnginePool
from deployer.ports import Ports
from deployer.records import Records
from deployer.repair import LEASE_INTERVALS, EndpointLeases
from deployer.settings import DeployerSettings
from totem.logs import register_secret
from totem.settings import Settings
from totem.store import Store, connect

if TYPE_CHECKING:
    from deployer.schedulers.base import Scheduler


@dataclass
class Context:
    settings: Settings
    options: DeployerSettings
    store: Store = field(default=None)  # type: ignore[assignment]
    # schedulers by name that take precedence over the registry's (a test passes an in-memory one)
    scheduler_factories: dict[str, Callable[[Context], Scheduler]] = field(default_factory=dict)
    _schedulers: dict[str, Scheduler] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        register_secret(self.settings.github_token)
        if self.store is None:
            self.store = connect(self.settings.etcd_url)

    @classmethod
    def from_env(cls) -> Context:
        return cls(Settings.from_env(), DeployerSettings.from_env())

    @cached_property
    def records(self) -> Records:
        return Records(self.store, self.options.prefix, self.settings.cluster)

    @cached_property
    def ports(self) -> Ports:
        return Ports(self.store, self.records.root, self.options.port_min, self.options.port_max)

    @cached_property
    def endpoint_leases(self) -> EndpointLeases:
        """The reconcile's endpoint registrations (deployer/repair.py), for this process."""
        return EndpointLeases(self.store, max(1, round(LEASE_INTERVALS * self.options.reconcile_interval)))

    @cached_property
    def engines(self) -> EnginePool:
        """The Docker clients of every scheduler in this process (deployer/engines.py)."""
        return EnginePool(self.options.access)

    @property
    def yoda(self) -> str:
        return self.settings.yoda_base.rstrip("/") + "/"

    @property
    def docker_hosts(self) -> tuple[str, ...]:
        return self.options.docker_hosts or (self.settings.docker_host,)

    def scheduler(self, name: str | None = None):
        from deployer import schedulers

        name = name or self.settings.scheduler
        if name not in self._schedulers:
            make = self.scheduler_factories.get(name)
            self._schedulers[name] = make(self) if make else schedulers.get(name, self)
        return self._schedulers[name]
