"""`GET /jobs`, `GET /jobs/<id>`, `GET /events`, `DELETE /apps/<owner>/<repo>/<ref>`, `GET /`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from orchestrator import events
from orchestrator.api.mask import mask
from orchestrator.hooks import intake
from orchestrator.hooks.routes import persisting
from orchestrator.jobs.store import JobStore
from orchestrator.runtime import Runtime
from orchestrator.states import ALL
from totem.api import ApiError, require_token
from totem.git_names import validate_git

blueprint = Blueprint("api", __name__)
MAX_LIMIT = 200


def runtime() -> Runtime:
    return current_app.extensions["orchestrator"]


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_parameter", f"{name} must be an integer from {low} to {high}", {"parameter": name})
    return int(raw)


def summary(job: dict) -> dict:
    keys = ("id", "owner", "repo", "ref", "commit", "state", "created", "updated", "reason", "error")
    return {**{k: job.get(k) for k in keys}, "url": f"/jobs/{job['id']}"}


@blueprint.get("/")
def index():
    return jsonify({"service": "orchestrator", "openapi": "/openapi.json", "jobs": "/jobs", "events": "/events"})


@blueprint.get("/jobs")
def list_jobs():
    filters = {k: request.args[k] for k in ("owner", "repo", "ref", "state") if request.args.get(k)}
    if filters.get("state") and filters["state"] not in ALL:
        raise ApiError(400, "invalid_parameter", f"state must be one of {', '.join(ALL)}", {"parameter": "state"})
    limit = _int_arg("limit", 50, 1, MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 10**9)
    with persisting():
        page, total = JobStore(runtime()).list(filters, limit, offset)
    return jsonify({"jobs": [summary(job) for job in page], "total": total, "limit": limit, "offset": offset})


@blueprint.get("/jobs/<job_id>")
def get_job(job_id: str):
    if not job_id.isalnum() or len(job_id) > 64:
        raise ApiError(404, "not_found", "no such job")
    rt = runtime()
    with persisting():
        job = JobStore(rt).get(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id} (jobs expire after {rt.options.job_ttl} s)")
        timeline = events.query(rt, job_id=job_id, limit=1000)
    return jsonify(
        {
            **summary(job),
            "commits": job["commits"],
            "hooks": job["hooks"],
            "required-hooks": job["required"],
            "force-deploy": job["force-deploy"],
            "config": mask(job["config"]),
            "deploy": job["deploy"],
            "events": timeline,
        }
    )


@blueprint.get("/events")
def list_events():
    app = None
    if any(request.args.get(k) for k in ("owner", "repo", "ref")):
        git = {k: request.args.get(k) for k in ("owner", "repo", "ref")}
        validate_git(git, ("owner", "repo", "ref"))
        app = f"{git['owner']}/{git['repo']}/{git['ref']}"
    job_id = request.args.get("job")
    if job_id is not None and (not job_id.isalnum() or len(job_id) > 64):
        raise ApiError(400, "invalid_parameter", "job must be a job id", {"parameter": "job"})
    limit = _int_arg("limit", 100, 1, 1000)
    with persisting():
        found = events.query(runtime(), job_id=job_id, app=app, limit=limit)
    return jsonify({"events": found, "count": len(found)})


@blueprint.delete("/apps/<owner>/<repo>/<path:ref>")
@require_token
def undeploy_app(owner: str, repo: str, ref: str):
    validate_git({"owner": owner, "repo": repo, "ref": ref}, ("owner", "repo", "ref"))
    with persisting():
        answer = intake.undeploy(runtime(), owner, repo, ref, freeze_branch=False)
    return jsonify(answer), 202
