"""The git names the image factory accepts (owner, repo, ref, commit), and the patterns its OpenAPI
document publishes for them.

A name is accepted when totem.git_names accepts it *and* the whole name matches its pattern, so
what the document says is what the code does even if one of the two changes. They say the same
today: tests/unit/test_image_factory_git_fields.py holds the patterns to the checks, in Python's
regular expressions and in JavaScript's (what an OpenAPI client reads them with).
"""

from __future__ import annotations

import re
from typing import Any

from totem.api import ApiError
from totem.git_names import CHECKS

FIELDS = ("owner", "repo", "ref", "commit")
_REF_PART = r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*"  # a path component of a ref: it may not start with "."
PATTERNS = {
    "owner": r"^(?!.*\.\.)[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9_])?$",
    "repo": r"^(?!\.$)(?!.*\.\.)[A-Za-z0-9_.-]{1,100}$",
    # 1-200 characters; not starting with "-", no "..", not ending with "." or ".lock"
    "ref": rf"^(?=.{{1,200}}$)(?!-)(?!.*\.\.)(?!.*\.$)(?!.*\.lock$){_REF_PART}(?:/{_REF_PART})*$",
    "commit": r"^[0-9a-f]{40}$",
}
DESCRIPTIONS = {
    "owner": "GitHub owner (user or organisation)",
    "repo": "repository name",
    "ref": "branch or tag name, slashes kept (`feature/login`)",
    "commit": "full commit id, 40 lowercase hex digits",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def is_valid(field: str, value: Any) -> bool:
    return isinstance(value, str) and CHECKS[field](value) and _COMPILED[field].fullmatch(value) is not None


def check_git(git: dict) -> dict:
    """Raise a 400 `invalid_git_name` naming the first bad field (as validate_git does); returns `git`."""
    for field in FIELDS:
        if not is_valid(field, git.get(field)):
            raise ApiError(
                400,
                "invalid_git_name",
                f"git.{field}: {repr(git.get(field))[:100]} is not a valid {field}",
                {"field": f"git.{field}"},
            )
    return git


def schema(field: str) -> dict:
    """The JSON Schema of one name, for the OpenAPI document."""
    return {"type": "string", "pattern": PATTERNS[field], "description": DESCRIPTIONS[field]}
