"""GitHub-format push deliveries for a local bare repository: payload from git, signed headers."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from totem import signed_post

ZERO = "0" * 40
MAX_COMMITS = 20  # GitHub lists at most 20 commits in a push payload
_FIELDS = ("id", "tree_id", "author_name", "author_email", "committer_name", "committer_email", "timestamp", "message")
_FORMAT = "%x00".join(("%H", "%T", "%an", "%ae", "%cn", "%ce", "%cI", "%B")) + "%x1e"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True, timeout=30
    ).stdout


def _commit(fields: dict, owner: str, repo: str, changes: dict[str, list[str]]) -> dict:
    return {
        "id": fields["id"],
        "tree_id": fields["tree_id"],
        "distinct": True,
        "message": fields["message"].strip(),
        "timestamp": fields["timestamp"],
        "url": f"file:///{owner}/{repo}/commit/{fields['id']}",
        "author": {"name": fields["author_name"], "email": fields["author_email"]},
        "committer": {"name": fields["committer_name"], "email": fields["committer_email"]},
        **changes,
    }


def _changes(repo: Path, commit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
    kinds = {"A": "added", "D": "removed"}
    out = _git(repo, "diff-tree", "--root", "--no-commit-id", "--name-status", "-r", commit)
    for line in out.splitlines():
        status, _, path = line.partition("\t")
        found[kinds.get(status[:1], "modified")].append(path)
    return found


def commits_between(repo: Path, before: str, after: str, owner: str, name: str) -> list[dict]:
    span = after if before == ZERO else f"{before}..{after}"
    out = _git(repo, "log", "--reverse", f"--max-count={MAX_COMMITS}", f"--format={_FORMAT}", span)
    commits = []
    for record in filter(None, (r.strip("\n") for r in out.split("\x1e"))):
        fields = dict(zip(_FIELDS, record.split("\x00"), strict=False))
        commits.append(_commit(fields, owner, name, _changes(repo, fields["id"])))
    return commits


def push_payload(
    repo: Path, owner: str, name: str, before: str, after: str, ref: str, pusher: str = "totem-demo"
) -> dict:
    """The body GitHub sends for a push of `ref` (a full `refs/heads/...` name) from `before` to `after`."""
    deleted = after == ZERO
    commits = [] if deleted else commits_between(repo, before, after, owner, name)
    person = {"name": pusher, "email": f"{pusher}@users.noreply.localhost"}
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": deleted,
        "forced": False,
        "base_ref": None,
        "compare": f"file:///{owner}/{name}/compare/{before[:12]}...{after[:12]}",
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "repository": {
            "name": name,
            "full_name": f"{owner}/{name}",
            "private": True,
            "owner": {"name": owner, "login": owner},
            "default_branch": "main",
            "clone_url": f"file://{repo}",
            "url": f"file://{repo}",
        },
        "pusher": person,
        "sender": {"login": pusher},
    }


def create_payload(owner: str, name: str, ref: str) -> dict:
    """The `create` event body for a new branch (`ref` without refs/heads/)."""
    return {
        "ref": ref,
        "ref_type": "branch",
        "master_branch": "main",
        "pusher_type": "user",
        "repository": {"name": name, "full_name": f"{owner}/{name}", "owner": {"name": owner, "login": owner}},
        "sender": {"login": "totem-demo"},
    }


def signed(secret: str, event: str, payload: dict) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, signed the way GitHub signs (`X-Hub-Signature-256`)."""
    body = signed_post.encode(payload)
    return body, {
        **signed_post.signed_headers(body, secret, header="X-Hub-Signature-256"),
        "User-Agent": "GitHub-Hookshot/totem-demo",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }
