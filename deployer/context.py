"""Everything a request or task needs, built once per process from the environment."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from deployer.options import DeployerOptions
from deployer.ports import Ports
from deployer.records import Records
from totem.settings import Settings
from totem.store import Store, connect


@dataclass
class Context:
    settings: Settings
    options: DeployerOptions
    store: Store = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = connect(self.settings.etcd_url)

    @classmethod
    def from_env(cls) -> "Context":
        return cls(Settings.from_env(), DeployerOptions.from_env())

    @cached_property
    def records(self) -> Records:
        return Records(self.store, self.options.prefix, self.settings.cluster)

    @cached_property
    def ports(self) -> Ports:
        return Ports(self.store, self.records.root, self.options.port_min, self.options.port_max)

    @property
    def yoda(self) -> str:
        return self.settings.yoda_base.rstrip("/") + "/"

    @property
    def docker_hosts(self) -> tuple[str, ...]:
        return self.options.docker_hosts or (self.settings.docker_host,)

    def scheduler(self, name: str | None = None):
        from deployer import schedulers

        name = name or self.settings.scheduler
        cache = self.__dict__.setdefault("_schedulers", {})
        if name not in cache:
            cache[name] = schedulers.get(name, self)
        return cache[name]
