"""The git names that arrive in requests (owner, repo, ref, commit): one pattern each, which is both
the check the code makes and what the OpenAPI documents and the deploy request schema publish.

The patterns are ECMA-262 regular expressions (what JSON Schema and an OpenAPI client read them
with) that Python's `re` reads the same way with `fullmatch`: they use nothing the two read
differently, and a trailing newline is refused by both. Anything that fails here never reaches
git, docker, etcd keys or a file path.
"""

from __future__ import annotations

import re

from totem.api.errors import ApiError

FIELDS = ("owner", "repo", "ref", "commit")
_REF_PART = r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*"  # a path component of a ref: it may not start with "."
PATTERNS = {
    # 1-100 characters, starting with a letter or digit, not ending with "." or "-", no ".."
    "owner": r"^(?!.*\.\.)[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9_])?$",
    # 1-100 characters, not "." and no ".."
    "repo": r"^(?!\.$)(?!.*\.\.)[A-Za-z0-9_.-]{1,100}$",
    # a branch or tag name as git allows it (a safe subset), slashes kept: `feature/login`; 1-200
    # characters (no 201st: a "$" inside a lookahead is read as "before a final newline" by tools
    # that use Python's `re`, such as Hypothesis), not starting with "-", no "..", not ending with
    # "." or ".lock"
    "ref": rf"^(?!.{{201}})(?!-)(?!.*\.\.)(?!.*\.$)(?!.*\.lock$){_REF_PART}(?:/{_REF_PART})*$",
    "commit": r"^[0-9a-f]{40}$",
}
MAX_LENGTHS = {"owner": 100, "repo": 100, "ref": 200, "commit": 40}  # what the patterns allow, for schemas
DESCRIPTIONS = {
    "owner": "GitHub owner (user or organisation)",
    "repo": "repository name",
    "ref": "branch or tag name, slashes kept (`feature/login`)",
    "commit": "full commit id, 40 lowercase hex digits",
}
_COMPILED = {field: re.compile(pattern) for field, pattern in PATTERNS.items()}


def _matches(field: str, value: object) -> bool:
    return isinstance(value, str) and _COMPILED[field].fullmatch(value) is not None


def is_owner(value: object) -> bool:
    return _matches("owner", value)


def is_repo(value: object) -> bool:
    return _matches("repo", value)


def is_ref(value: object) -> bool:
    return _matches("ref", value)


def is_commit(value: object) -> bool:
    return _matches("commit", value)


CHECKS = {"owner": is_owner, "repo": is_repo, "ref": is_ref, "commit": is_commit}


def schema(field: str) -> dict:
    """The JSON Schema of one name (OpenAPI documents, the deploy request)."""
    return {
        "type": "string",
        "pattern": PATTERNS[field],
        "maxLength": MAX_LENGTHS[field],
        "description": DESCRIPTIONS[field],
    }


def validate_git(git: dict, fields: tuple[str, ...] = FIELDS) -> dict:
    """Raise a 400 `invalid_git_name` naming the first bad field; returns `git` unchanged when valid."""
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
