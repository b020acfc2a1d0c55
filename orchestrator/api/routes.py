"""`GET /jobs`, `GET /jobs/<id>`, `GET /events`, `DELETE /apps/<owner>/<repo>/<ref>`, `GET /`.

Every filter given must be usable: an empty or unknown value is a 400 naming the parameter."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

from orchestrator import events
from orchestrator.api.mask import mask
from orchestrator.hooks import intake
from orchestrator.hooks.routes import persisting
from orchestrator.jobs import approval
from orchestrator.jobs.store import JobStore, app_name
from orchestrator.runtime import Runtime
from orchestrator.states import ALL
from totem.access.guard import authenticate, authorize, require
from totem.api import ApiError, invalid_parameter
from totem.git_names import CHECKS, validate_git

blueprint = Blueprint("api", __name__)
MAX_LIMIT = 200  # jobs per page
MAX_EVENTS = 1000  # events per answer
MAX_OFFSET = 10**9
JOB_ID = re.compile(r"[A-Za-z0-9]{1,64}")  # job ids are uuid4 hex; ASCII only (str.isalnum is not)
GIT_FILTERS = ("owner", "repo", "ref")


def runtime() -> Runtime:
    return current_app.extensions["orchestrator"]


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    # ASCII digits only, and not thousands of them: int() refuses '²' (a digit to str.isdigit) and
    # strings of more than 4300 digits
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20) or not low <= int(raw) <= high:
        raise invalid_parameter(name, f"must be an integer from {low} to {high}")
    return int(raw)


def _git_filters() -> dict[str, str]:
    """owner=, repo=, ref= as given: each one present must be a valid name (an empty one is a 400)."""
    given = {name: request.args[name] for name in GIT_FILTERS if name in request.args}
    for name, value in given.items():
        if not CHECKS[name](value):
            raise invalid_parameter(name, f"must be a valid {name} name")
    return given


def _job_id_arg() -> str | None:
    job_id = request.args.get("job")
    if job_id is not None and not JOB_ID.fullmatch(job_id):
        raise invalid_parameter("job", "must be a job id (1-64 letters and digits)")
    return job_id


def summary(job: dict) -> dict:
    keys = ("id", "owner", "repo", "ref", "commit", "state", "created", "updated", "reason", "error")
    return {**{k: job.get(k) for k in keys}, "url": f"/jobs/{job['id']}"}


@blueprint.get("/")
def index():
    return jsonify({"service": "orchestrator", "openapi": "/openapi.json", "jobs": "/jobs", "events": "/events"})


@blueprint.get("/jobs")
def list_jobs():
    filters = _git_filters()
    if "state" in request.args:
        if request.args["state"] not in ALL:
            raise invalid_parameter("state", f"must be one of {', '.join(ALL)}")
        filters["state"] = request.args["state"]
    limit = _int_arg("limit", 50, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, MAX_OFFSET)
    with persisting():
        page, total = JobStore(runtime()).list(filters, limit, offset)
    return jsonify({"jobs": [summary(job) for job in page], "total": total, "limit": limit, "offset": offset})


@blueprint.get("/jobs/<job_id>")
def get_job(job_id: str):
    if not JOB_ID.fullmatch(job_id):
        raise ApiError(404, "not_found", "no such job")
    rt = runtime()
    with persisting():
        job = JobStore(rt).get(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id} (jobs expire after {rt.options.job_ttl} s)")
        timeline = events.query(rt, job_id=job_id, limit=MAX_EVENTS)
    return jsonify(
        {
            **summary(job),
            "commits": job["commits"],
            "hooks": job["hooks"],
            "required-hooks": job["required"],
            "force-deploy": job["force-deploy"],
            "config": mask(job["config"]),
            "deploy": job["deploy"],
            "approval": approval.current(job),  # docs/approvals.md; None when the commit was never held
            "events": timeline,
        }
    )


@blueprint.get("/events")
def list_events():
    git = _git_filters()
    missing = [name for name in GIT_FILTERS if name not in git]
    if git and missing:
        raise invalid_parameter(missing[0], "is needed with " + " and ".join(git) + " (an app is owner, repo and ref)")
    app = app_name(git["owner"], git["repo"], git["ref"]) if git else None
    job_id = _job_id_arg()
    limit = _int_arg("limit", 100, 1, MAX_EVENTS)
    with persisting():
        found = events.query(runtime(), job_id=job_id, app=app, limit=limit)
    return jsonify({"events": found, "count": len(found)})


@blueprint.delete("/apps/<owner>/<repo>/<path:ref>")
@require("undeploy")
def undeploy_app(owner: str, repo: str, ref: str):
    validate_git({"owner": owner, "repo": repo, "ref": ref}, ("owner", "repo", "ref"))
    authorize(owner, repo, ref=ref, app=app_name(owner, repo, ref))
    with persisting():
        recorded = {"actor": authenticate().name, "kind": "token", "recorded": "orchestrator"}  # this request's record
        answer = intake.undeploy(runtime(), owner, repo, ref, False, recorded)
    return jsonify(answer), 202
