"""Where the demo keeps things under $TOTEM_HOME, and the sample app it pushes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from totem.settings import Settings
from totem_stack.services import StackHome

OWNER = "totem"
REPO = "hello"
BRANCH = "main"
PROXY_NODE = "demo"


@dataclass(frozen=True)
class DemoHome:
    """$TOTEM_HOME/demo (secrets, sample app work tree), git/ (bare repos), log/ and run/ like the stack."""

    stack: StackHome

    @property
    def root(self) -> Path:
        return self.stack.root / "demo"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets.env"

    @property
    def git(self) -> Path:
        return self.stack.root / "git"

    def bare_repo(self, owner: str = OWNER, repo: str = REPO) -> Path:
        return self.git / owner / f"{repo}.git"

    def work_tree(self, repo: str = REPO) -> Path:
        return self.root / "work" / repo

    def log(self, name: str) -> Path:
        return self.stack.log(f"demo-{name}")

    def pid(self, name: str) -> Path:
        return self.stack.pid(f"demo-{name}")

    @property
    def git_url_template(self) -> str:
        return f"file://{self.git}/{{owner}}/{{repo}}.git"

    @classmethod
    def of(cls, settings: Settings) -> DemoHome:
        return cls(StackHome.of(settings))


def bind_of(url: str) -> str:
    """`http://127.0.0.1:9400` → `127.0.0.1:9400` (what gunicorn binds)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 80}"
