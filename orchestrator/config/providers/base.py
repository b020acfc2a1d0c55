"""The provider interface: the raw YAML of one file at one level of the hierarchy, or None."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from orchestrator.errors import OrchestratorError

FILES = ("cluster-def.yml", "totem.yml")  # merged in this order: totem.yml wins


@dataclass(frozen=True)
class Location:
    env: str
    cluster: str
    owner: str
    repo: str
    ref: str
    commit: str | None = None

    def levels(self) -> list[tuple[str, ...]]:
        """Least to most specific: (), (env,), (env, owner), (env, owner, repo), (env, owner, repo, ref)."""
        parts = (self.env, self.owner, self.repo, self.ref)
        return [parts[:depth] for depth in range(len(parts) + 1)]


class ProviderUnavailable(OrchestratorError, OSError):
    """A source did not answer (retry later); a missing file is None, never this."""


class Provider(ABC):
    name = "provider"
    builtin = False  # the built-in defaults: their `default` deployer yields to deployers named elsewhere

    @abstractmethod
    def load(self, location: Location, level: tuple[str, ...], file_name: str) -> str | None:
        """The text of `file_name` at `level` (a prefix of env/owner/repo/ref), or None."""
