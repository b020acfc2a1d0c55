"""Local bare git repositories (reached through a file:// URL template) with busybox Dockerfiles."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY message.txt /message.txt
CMD ["/bin/busybox", "cat", "/message.txt"]
"""
BROKEN_DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "echo about to fail; exit 3"]
"""
_GIT = ["git", "-c", "user.name=Totem Test", "-c", "user.email=test@totem.localhost", "-c", "init.defaultBranch=main"]


class GitRepo:
    """A bare repository at <root>/<owner>/<repo>.git and a work tree to commit from."""

    def __init__(self, root: Path, owner: str, repo: str):
        self.owner, self.repo = owner, repo
        self.bare = root / owner / f"{repo}.git"
        self.work = root / "work" / owner / repo
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        self._git(root, "init", "--quiet", "--bare", str(self.bare))
        self.work.mkdir(parents=True)
        self._git(self.work, "init", "--quiet")

    @staticmethod
    def _git(cwd: Path, *args: str) -> str:
        return subprocess.run([*_GIT, *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60).stdout

    def commit(self, files: dict[str, str], message: str = "change", busybox: bool = True) -> str:
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        if busybox and not (self.work / "busybox").exists():
            shutil.copy("/bin/busybox", self.work / "busybox")
        self._git(self.work, "add", "--all")
        self._git(self.work, "commit", "--quiet", "--allow-empty", "-m", message)
        return self._git(self.work, "rev-parse", "HEAD").strip()

    def push(self, ref: str) -> None:
        self._git(self.work, "push", "--quiet", "--force", str(self.bare), f"HEAD:refs/heads/{ref}")
