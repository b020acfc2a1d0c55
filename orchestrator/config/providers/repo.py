"""The repository's own totem.yml at the commit, at the most specific level.

Fetched from TOTEM_REPO_CONFIG_URL (http(s):// or file://, with {owner} {repo} {ref} {commit}),
or, when that is unset and TOTEM_GIT_URL_TEMPLATE is a local file:// repository, with `git show`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests

from orchestrator.config.errors import ConfigError
from orchestrator.config.providers.base import Location, Provider, ProviderUnavailable
from totem.git_names import validate_git

TIMEOUT = 10


class RepoProvider(Provider):
    name = "repo"

    def __init__(self, url_template: str | None, git_url_template: str | None = None):
        self.url_template = url_template
        self.git_url_template = git_url_template

    def load(self, location: Location, level: tuple[str, ...], file_name: str) -> str | None:
        if len(level) != 4 or file_name != "totem.yml":
            return None
        revision = location.commit or location.ref
        names = {"owner": location.owner, "repo": location.repo, "ref": location.ref}
        validate_git(
            {**names, "commit": location.commit} if location.commit else names,
            ("owner", "repo", "ref", "commit") if location.commit else ("owner", "repo", "ref"),
        )
        if self.url_template:
            return self._fetch(self.url_template.format(**names, commit=revision))
        if self.git_url_template and self.git_url_template.startswith("file://"):
            return self._git_show(self.git_url_template.format(**names), revision)
        return None

    def _fetch(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path))
            return path.read_text() if path.is_file() else None
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"repo config URL scheme {parts.scheme!r} is not supported")
        try:
            response = requests.get(url, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"repository totem.yml: {type(exc).__name__}") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"repository totem.yml: HTTP {response.status_code}")
        if not response.ok:
            raise ConfigError(f"could not fetch the repository's totem.yml: HTTP {response.status_code}")
        return response.text

    def _git_show(self, git_url: str, revision: str) -> str | None:
        repository = unquote(urlsplit(git_url).path)
        if not Path(repository).is_dir():
            return None
        result = subprocess.run(
            ["git", "--git-dir", repository, "show", f"{revision}:totem.yml"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        return result.stdout if result.returncode == 0 else None
