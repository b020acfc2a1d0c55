"""Build one deploy request per enabled deployer from a job and its evaluated config."""

from __future__ import annotations

import copy

from jsonschema import Draft202012Validator

from orchestrator.errors import OrchestratorError
from orchestrator.jobs.gate import builder_image
from orchestrator.jobs.store import Job
from totem import commit_time
from totem.contracts.deploy_request import DEPLOY_REQUEST_SCHEMA

_VALIDATOR = Draft202012Validator(DEPLOY_REQUEST_SCHEMA)


class RequestError(OrchestratorError, ValueError):
    """A deploy request cannot be built from the job (it would not match the schema)."""


def enabled_deployers(config: dict) -> dict[str, dict]:
    return {
        name: deployer
        for name, deployer in sorted((config.get("deployers") or {}).items())
        if isinstance(deployer, dict) and deployer.get("enabled")
    }


def _commit_time(job: Job) -> dict[str, str]:
    """`commit-time`: the commit's time a hook gave, else its first hook's (docs/delivery-metrics.md)."""
    seen = job.get("commit-seen")
    when = job.get("commit-time") or (commit_time.from_unix(seen) if isinstance(seen, (int, float)) else None)
    return {"commit-time": when} if when else {}


def build(job: Job, name: str, deployer: dict, env: str, cluster: str, job_url: str) -> dict:
    config = job["config"]
    templates = copy.deepcopy(deployer.get("templates") or {})
    app = templates.setdefault("app", {})
    app.setdefault("args", {})["image"] = builder_image(job) or app.get("args", {}).get("image")
    request = {
        "meta-info": {
            "job-id": job["id"],
            "job-url": job_url,
            "env": env,
            "cluster": cluster,
            "deployer": name,
            "git": {k: job[k] for k in ("owner", "repo", "ref", "commit")},
            **_commit_time(job),
        },
        "deployment": copy.deepcopy(deployer.get("deployment") or {}),
        "templates": templates,
        "proxy": copy.deepcopy(deployer.get("proxy") or {}),
        "environment": copy.deepcopy(config.get("environment") or {}),
        "security": copy.deepcopy(config.get("security") or {}),
        "logging": copy.deepcopy(config.get("logging") or {}),
        "notifications": copy.deepcopy(config.get("notifications") or {}),
        "schedule": config.get("schedule"),
    }
    errors = sorted(_VALIDATOR.iter_errors(request), key=lambda e: list(e.absolute_path))
    if errors:
        path = ".".join(str(p) for p in errors[0].absolute_path)
        raise RequestError(f"deploy request for {name}: {path}: {errors[0].message}")
    return request
