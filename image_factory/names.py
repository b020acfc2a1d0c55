"""Image names and tags: `<registry>/<owner>-<repo>:<commit>` and `:<ref-slug>`."""

from __future__ import annotations

import re

from totem.git_names import ref_slug

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _separator(run: str) -> str:
    # Docker allows ".", "_", "__" or any run of "-" between alphanumerics
    return run if run in {".", "_", "__"} or set(run) == {"-"} else "-"


def repository(owner: str, repo: str) -> str:
    """`Acme`, `My_App..x` → `acme-my_app-x`: a valid Docker repository path component."""
    name = _SEPARATORS.sub(lambda m: _separator(m.group(0)), f"{owner}-{repo}".lower())
    return name.strip("._-")[:200] or "image"


def image_repository(registry: str, owner: str, repo: str) -> str:
    return f"{registry.rstrip('/')}/{repository(owner, repo)}"


def image_tags(registry: str, owner: str, repo: str, ref: str, commit: str) -> tuple[str, str]:
    """The commit tag (what the builder hook reports) and the moving ref tag."""
    base = image_repository(registry, owner, repo)
    return f"{base}:{commit}", f"{base}:{ref_slug(ref)}"
