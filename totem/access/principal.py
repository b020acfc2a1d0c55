"""Who a request acts as: a token's name, role, repo scopes and environments."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from totem.access.roles import includes, role_for

BOOTSTRAP = "bootstrap"  # the name TOTEM_API_TOKEN acts under: an admin, also the services' own identity


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    scopes: tuple[str, ...] = ("*",)  # owner/repo globs
    envs: tuple[str, ...] = ("*",)  # environment globs
    kind: str = "token"  # token | bootstrap | dev (TOTEM_INSECURE_DEV, no token configured)

    def can(self, action: str) -> bool:
        return includes(self.role, role_for(action))

    def covers_repo(self, owner: str | None, repo: str | None) -> bool:
        """An app whose owner/repo is unknown is covered only by a token scoped to everything."""
        if owner is None or repo is None:
            return "*" in self.scopes
        return any(fnmatchcase(f"{owner}/{repo}", scope) for scope in self.scopes)

    def covers_env(self, env: str) -> bool:
        return any(fnmatchcase(env, pattern) for pattern in self.envs)

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "scopes": list(self.scopes), "envs": list(self.envs)}
