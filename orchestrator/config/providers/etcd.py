"""Config in etcd: `<prefix>/<env>/<owner>/<repo>/<ref>/totem.yml` at every prefix level."""

from __future__ import annotations

from orchestrator.config.providers.base import Location, Provider


class EtcdProvider(Provider):
    name = "etcd"

    def __init__(self, store, prefix: str = "/totem/config"):
        self.store = store
        self.prefix = prefix.rstrip("/")

    def load(self, location: Location, level: tuple[str, ...], file_name: str) -> str | None:
        return self.store.get("/".join((self.prefix, *level, file_name)))
