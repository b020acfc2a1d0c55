"""GitHub events → what the orchestrator does with them.

push → scm-push hook; create (branch) → unfreeze; delete (branch) → undeploy + freeze;
workflow_run / check_suite / status → ci hook (GitHub Actions or any checks as CI); ping → pong.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, cast

from orchestrator.jobs.model import Hook
from totem import commit_time
from totem.api import ApiError
from totem.contracts.hook import HookStatus
from totem.git_names import validate_git
from totem.github import GithubDelivery, GitRef, create_or_delete_ref, push_ref

SUCCESS_CONCLUSIONS = {"success", "neutral", "skipped"}
OWN_STATUS_SUFFIX = "::Orchestrator"  # our own commit statuses come back as `status` events


@dataclass
class Action:
    kind: str  # hooks | ping | unfreeze | undeploy | ignored
    hooks: list[Hook] = field(default_factory=list)
    ref: GitRef | None = None
    reason: str | None = None


def _repository(payload: dict) -> tuple[Any, Any]:
    repo = payload.get("repository")
    if not isinstance(repo, dict):
        raise ApiError(400, "invalid_payload", "payload.repository is missing")
    owner = repo.get("owner")
    if not isinstance(owner, dict):
        owner = {}
    return owner.get("login") or owner.get("name"), repo.get("name")


MAX_NAME = 100  # a hook name's length (docs/architecture.md §3.1)


def _ci_hook(payload: dict, name: Any, branch: Any, sha: Any, status: HookStatus, field: str) -> Hook:
    owner, repo = _repository(payload)
    git = {"owner": owner, "repo": repo, "ref": branch, "commit": sha}
    validate_git(git)
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise ApiError(
            400,
            "invalid_payload",
            f"{field} is missing or not a name of 1-{MAX_NAME} characters",
            {"field": field},
        )
    return Hook(**git, type="ci", name=name, status=status, source="github")


def _text(value: Any) -> str | None:
    """`value` when it is a string with more than blanks in it."""
    return value if isinstance(value, str) and value.strip() else None


def workflow_name(payload: dict, run: dict) -> str | None:
    """The workflow a run belongs to: `workflow_run.name`, which GitHub may send empty, else
    `workflow.name`, else the file name of `workflow_run.path` (`.github/workflows/ci.yml` → `ci.yml`)."""
    workflow = payload.get("workflow")
    if not isinstance(workflow, dict):
        workflow = {}
    path = _text(run.get("path")) or _text(workflow.get("path"))
    file_name = _text(path.split("@", 1)[0].rstrip("/").rsplit("/", 1)[-1]) if path else None
    return _text(run.get("name")) or _text(workflow.get("name")) or file_name


def _conclusion(action: Any, conclusion: Any) -> HookStatus:
    if action != "completed":
        return HookStatus.PENDING
    return HookStatus.SUCCESS if conclusion in SUCCESS_CONCLUSIONS else HookStatus.FAILED


def _push(payload: dict) -> Action:
    ref = push_ref(payload)
    if ref.deleted:
        return Action("undeploy", ref=ref) if ref.ref_type == "branch" else Action("ignored", reason="tag deleted")
    commit = cast(str, ref.commit)  # push_ref checked that a ref not deleted points at a 40-hex commit
    head = payload.get("head_commit")
    when = commit_time.normalise(head.get("timestamp")) if isinstance(head, dict) else None
    hook = Hook(ref.owner, ref.repo, ref.ref, commit, "scm-push", "github", HookStatus.SUCCESS)
    hook = dataclasses.replace(hook, source="github", commit_time=when)
    return Action("hooks", [hook])


def _workflow_run(payload: dict) -> Action:
    run = payload.get("workflow_run")
    if not isinstance(run, dict):
        raise ApiError(400, "invalid_payload", "payload.workflow_run is missing")
    if run.get("event") == "pull_request":
        return Action("ignored", reason="pull request runs never deploy")
    status = _conclusion(payload.get("action"), run.get("conclusion"))
    name = workflow_name(payload, run)
    field = "payload.workflow_run.name (or payload.workflow.name, payload.workflow_run.path)"
    return Action("hooks", [_ci_hook(payload, name, run.get("head_branch"), run.get("head_sha"), status, field)])


def _check_suite(payload: dict) -> Action:
    suite = payload.get("check_suite")
    if not isinstance(suite, dict):
        raise ApiError(400, "invalid_payload", "payload.check_suite is missing")
    if not suite.get("head_branch"):
        return Action("ignored", reason="check suite without a branch")
    app = suite.get("app")
    if not isinstance(app, dict):
        app = {}
    status = _conclusion(payload.get("action"), suite.get("conclusion"))
    return Action(
        "hooks",
        [
            _ci_hook(
                payload,
                app.get("slug") or "check-suite",
                suite["head_branch"],
                suite.get("head_sha"),
                status,
                "payload.check_suite.app.slug",
            )
        ],
    )


def _status(payload: dict) -> Action:
    context = payload.get("context")
    if isinstance(context, str) and context.endswith(OWN_STATUS_SUFFIX):
        return Action("ignored", reason="our own commit status")
    state = payload.get("state")
    statuses: dict[object, HookStatus] = {"success": HookStatus.SUCCESS, "pending": HookStatus.PENDING}
    status = statuses.get(state, HookStatus.FAILED)
    branches = payload.get("branches")
    if not isinstance(branches, list):
        branches = []
    hooks = [
        _ci_hook(payload, context, b.get("name"), payload.get("sha"), status, "payload.context")
        for b in branches
        if isinstance(b, dict) and (b.get("commit") or {}).get("sha") == payload.get("sha")
    ]
    return Action("hooks", hooks) if hooks else Action("ignored", reason="no branch points at this commit")


def _create_or_delete(payload: dict, deleted: bool) -> Action:
    ref = create_or_delete_ref(payload, deleted)
    if ref.ref_type != "branch":
        return Action("ignored", reason="tags are not frozen or undeployed")
    return Action("undeploy" if deleted else "unfreeze", ref=ref)


def translate(delivery: GithubDelivery) -> Action:
    payload = delivery.payload
    if delivery.event == "ping":
        return Action("ping")
    handlers = {
        "push": _push,
        "workflow_run": _workflow_run,
        "check_suite": _check_suite,
        "status": _status,
        "create": lambda p: _create_or_delete(p, False),
        "delete": lambda p: _create_or_delete(p, True),
    }
    handler = handlers.get(delivery.event)
    if handler is None:
        return Action("ignored", reason=f"event {delivery.event} is not used")
    return handler(payload)
