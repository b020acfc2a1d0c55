"""Jobs (orchestrator) and builds (image factory): filtered lists, a job page, a build page with its live log."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from image_factory.states import FINISHED, STATUSES
from orchestrator.states import ALL as JOB_STATES
from totem_client import ServiceError
from totem_dashboard import ansi
from totem_dashboard.approvals import AWAITING
from totem_dashboard.render import clients, page

blueprint = Blueprint("activity", __name__)
MAX_AWAITING = 20  # jobs awaiting approval whose own record one page asks for


def _filters(names: tuple[str, ...]) -> dict[str, str]:
    return {k: request.args.get(k, "").strip()[:200] for k in names}


def _with_approvals(jobs: list[dict]) -> list[dict]:
    """The list's summaries carry no approval: a job that awaits one gets its own record (its policy
    decides whom the page offers Approve / Reject)."""
    shown: list[dict] = []
    for job in jobs:
        if job.get("state") == AWAITING and len(shown) < MAX_AWAITING:
            try:
                job = {**job, "approval": clients().orchestrator.job(job["id"]).get("approval")}
            except ServiceError:
                pass  # gone meanwhile: the summary as it is, without buttons
        shown.append(job)
    return shown


@blueprint.get("/jobs")
def list_jobs():
    chosen = _filters(("owner", "repo", "ref", "state"))
    answer = clients().orchestrator.jobs(**{k: v or None for k, v in chosen.items()}, limit=100)
    return page(
        "jobs.html",
        "_jobs_table.html",
        jobs=_with_approvals(answer["jobs"]),
        total=answer.get("total", 0),
        chosen=chosen,
        states=JOB_STATES,
    )


@blueprint.get("/jobs/<job_id>")
def show_job(job_id: str):
    return page("job.html", "_job_live.html", job=clients().orchestrator.job(job_id))


@blueprint.get("/builds")
def list_builds():
    chosen = _filters(("owner", "repo", "ref", "status"))
    answer = clients().image_factory.builds(**{k: v or None for k, v in chosen.items()}, limit=100)
    return page("builds.html", "_builds_table.html", builds=answer["builds"], chosen=chosen, statuses=STATUSES)


@blueprint.get("/builds/<build_id>")
def show_build(build_id: str):
    build = clients().image_factory.build(build_id)
    log = clients().image_factory.log(build_id)
    lines = log.splitlines()
    return page(
        "build.html",
        "_build_live.html",
        build=build,
        log_html=ansi.to_html("\n".join(lines)),
        line_count=len(lines),
        finished=build["status"] in FINISHED,
    )


@blueprint.get("/builds/<build_id>/log-lines")
def build_log_lines(build_id: str):
    """Log lines after line `after`, as escaped HTML, for the build page to append while it runs."""
    given = request.args.get("after", "0")
    after = int(given) if given.isdigit() else 0
    build = clients().image_factory.build(build_id)
    lines = clients().image_factory.log(build_id).splitlines()
    new = lines[after:]
    return jsonify(
        {
            "html": str(ansi.to_html("\n".join(new))) + ("\n" if new else ""),
            "next": len(lines),
            "status": build["status"],
            "finished": build["status"] in FINISHED,
        }
    )
