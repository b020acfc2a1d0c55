"""What a notice says and about what, for any caller: an orchestrator job or a deployer deployment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from totem.errors import TotemError
from totem.notify.levels import Level


@dataclass(frozen=True)
class Notice:
    level: Level
    message: str
    source: str  # who speaks, e.g. "Orchestrator" (the GitHub status context)
    link: str | None = None  # the job or deployment page
    env: str | None = None
    cluster: str | None = None
    git: Mapping[str, str] | None = None  # owner, repo, ref, commit
    app: str | None = None  # a deployment's app and version, when it is one
    version: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)  # the caller's own fields in webhook bodies
    actions: tuple[tuple[str, str], ...] = ()  # (label, url) links to act on it (Slack buttons)

    @property
    def status(self) -> str:
        return self.level.label

    @property
    def commit(self) -> str | None:
        return (self.git or {}).get("commit")

    @property
    def subject(self) -> str:
        """`shop v1` for a deployment, `acme/shop@master` for a job."""
        if self.app:
            return " ".join(filter(None, (self.app, self.version)))
        git = self.git or {}
        return f"{git.get('owner')}/{git.get('repo')}@{git.get('ref')}"


@dataclass(frozen=True)
class Delivery:
    """How notices leave this process: per-request timeout, the webhook signing secret, GitHub's API."""

    timeout: float = 10.0
    hook_secret: str | None = field(default=None, repr=False)
    github_api_url: str = "https://api.github.com"
    github_token: str | None = field(default=None, repr=False)


class Skipped(TotemError):
    """Raised by a channel when the notice lacks what it needs (e.g. a commit for a GitHub status)."""
