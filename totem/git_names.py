"""Validation of the git names that arrive in requests (owner, repo, ref, commit).

Anything that fails here never reaches git, docker, etcd keys or a file path.
"""

from __future__ import annotations

import re

from totem.api.errors import ApiError

_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9_])?$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REF_PART = re.compile(r"^[A-Za-z0-9_.+-]+$")


def is_owner(value: object) -> bool:
    return isinstance(value, str) and bool(_OWNER.fullmatch(value)) and ".." not in value


def is_repo(value: object) -> bool:
    return isinstance(value, str) and bool(_REPO.fullmatch(value)) and value not in {".", ".."} and ".." not in value


def is_commit(value: object) -> bool:
    return isinstance(value, str) and bool(_COMMIT.fullmatch(value))


def is_ref(value: object) -> bool:
    """A branch or tag name as git allows it (a safe subset), slashes kept: `feature/login`."""
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        return False
    if value.startswith(("-", "/", ".")) or value.endswith(("/", ".", ".lock")) or ".." in value or "//" in value:
        return False
    return all(_REF_PART.fullmatch(part) and not part.startswith(".") for part in value.split("/"))


CHECKS = {"owner": is_owner, "repo": is_repo, "ref": is_ref, "commit": is_commit}


def validate_git(git: dict, fields: tuple[str, ...] = ("owner", "repo", "ref", "commit")) -> dict:
    """Raise a 400 naming the first bad field; returns `git` unchanged when valid."""
    for field in fields:
        if not CHECKS[field](git.get(field)):
            raise ApiError(
                400,
                "invalid_git_name",
                f"git.{field}: {git.get(field)!r} is not a valid {field}",
                {"field": f"git.{field}"},
            )
    return git


def ref_slug(ref: str) -> str:
    """A ref as a Docker tag / DNS label: `feature/Login_x` → `feature-login-x`."""
    slug = re.sub(r"[^a-z0-9]+", "-", ref.lower()).strip("-")
    return slug[:63].rstrip("-") or "ref"
