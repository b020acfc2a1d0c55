"""Deciding a job that awaits approval (docs/approvals.md).

`POST /jobs/<id>/approve` {"comment"?} and `POST /jobs/<id>/reject` {"reason"?}: a bearer token the
job's policy names (a role name: that role or higher; else a token name). `/approvals/<id>/<decision>`
with `expires` and `signature`: the signed link of a notification; GET shows a form and decides
nothing (chat apps fetch links to preview them), POST decides, audited as actor `signed-link`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from markupsafe import escape

from orchestrator import approval_links
from orchestrator.api.routes import JOB_ID, runtime
from orchestrator.hooks.routes import persisting
from orchestrator.jobs import approval
from orchestrator.jobs.store import Job, JobStore
from totem.access import guard
from totem.api import ApiError, json_body
from totem.api.errors import UNAVAILABLE

blueprint = Blueprint("approvals", __name__)
NOTE = {"type": "string", "maxLength": approval.MAX_NOTE}
COMMIT = {"type": "string", "minLength": 1, "maxLength": 64, "description": "decide only if this commit is held"}
APPROVE_BODY = {"type": "object", "additionalProperties": False, "properties": {"comment": NOTE, "commit": COMMIT}}
REJECT_BODY = {"type": "object", "additionalProperties": False, "properties": {"reason": NOTE, "commit": COMMIT}}
LINK_ACTOR = "signed-link"


def _job(job_id: str) -> Job:
    if not JOB_ID.fullmatch(job_id):
        raise ApiError(404, "not_found", "no such job")
    job = JobStore(runtime()).get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id}")
    return job


def _answer(job: Job) -> dict[str, Any]:
    return {"id": job["id"], "state": job["state"], "error": job.get("error"), "approval": approval.current(job)}


def _decide(job_id: str, decision: str, schema: dict, field: str):
    body = json_body(schema) if request.content_length else {}
    with persisting():
        job = _job(job_id)
        guard.authorize(job["owner"], job["repo"], ref=job["ref"], app=job["app"], job=job_id)
        principal = guard.authenticate()
        details = g.audit.setdefault("details", {})
        details.update(decision=decision, commit=job["commit"], note=body.get(field, ""))
        details["trigger-actor"] = approval.trigger_actor(job)
        try:
            approval.check_decider(principal, job)
            commit = str(body.get("commit") or job["commit"])  # what the decider saw (the dashboard sends it)
            decided = approval.decide(runtime(), job_id, commit, decision, _by(principal), body.get(field))
        except approval.Refused as exc:
            raise ApiError(exc.status, exc.code, exc.message, {"job": job_id}) from None
    return jsonify(_answer(decided))


def _by(principal) -> dict[str, str]:
    return {"by": principal.name, "kind": principal.kind}


@blueprint.post("/jobs/<job_id>/approve")
@guard.require("approve")
def approve(job_id: str):
    return _decide(job_id, "approve", APPROVE_BODY, "comment")


@blueprint.post("/jobs/<job_id>/reject")
@guard.require("approve")
def reject(job_id: str):
    return _decide(job_id, "reject", REJECT_BODY, "reason")


def _verified(job_id: str, decision: str) -> str:
    """The commit the link decides on, once its signature is checked."""
    secret = current_app.config["TOTEM_SETTINGS"].hook_secret
    commit, expires, signed = (request.args.get(name) for name in ("commit", "expires", "signature"))
    approval_links.verify(secret, job_id, decision, commit, expires, signed)
    return str(commit)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p>{form}</body></html>
"""
FORM = """<form method="post" action="{action}">
<label>{label} <input name="note" maxlength="{max}"></label>
<button type="submit">{button}</button></form>"""


PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the page's URL is the signed link: never pass it on
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
}


def _page(status: int, title: str, text: str, form: str = ""):
    html = PAGE.format(title=escape(title), text=escape(text), form=form)
    return html, status, PAGE_HEADERS


@blueprint.get("/approvals/<job_id>/<decision>")
def link_page(job_id: str, decision: str):
    """The signed link, opened: what it would decide, and a button that does (a POST)."""
    try:
        commit = _verified(job_id, decision)
    except approval_links.LinkInvalid as exc:
        return _page(403, "Link not valid", str(exc))
    with persisting():
        job = _job(job_id)
    what = f"{job['owner']}/{job['repo']}@{job['ref']} {commit[:12]} in {runtime().settings.env}"
    record = approval.current(job)
    if job["state"] != "AWAITING_APPROVAL" or record is None or record["commit"] != commit:
        return _page(409, "Nothing to decide", f"{what}: not awaiting approval (the job is {job['state']})")
    if record["state"] != approval.WAITING:
        return _page(409, "Nothing to decide", f"{what} is {record['state']} already")
    label = "Comment" if decision == "approve" else "Reason"
    form = FORM.format(
        action=escape(request.full_path), label=label, max=approval.MAX_NOTE, button=escape(decision.capitalize())
    )
    return _page(
        200, f"{decision.capitalize()} the deploy of {what}?", "Nothing changes until you press the button.", form
    )


@blueprint.post("/approvals/<job_id>/<decision>")
def link_decide(job_id: str, decision: str):
    """The signed link's button: decides, audited as `signed-link` (there is no token)."""
    status, target = 500, {"job": job_id}
    details: dict[str, Any] = {"decision": decision, "via": "link"}
    try:
        commit = _verified(job_id, decision)
        note = _link_note()
        with persisting():
            job = _job(job_id)
            target.update(owner=job["owner"], repo=job["repo"], ref=job["ref"], app=job["app"])
            details.update({"commit": commit, "note": note or "", "trigger-actor": approval.trigger_actor(job)})
            decided = approval.decide(runtime(), job_id, commit, decision, {"by": LINK_ACTOR, "kind": "link"}, note)
        status = 200
        if request.mimetype == "application/x-www-form-urlencoded":  # the page's button: a page back
            done = "approved: it deploys now" if decision == "approve" else "rejected: it will not deploy"
            return _page(200, f"Job {job_id[:12]} {done}", "You may close this page.")
        return jsonify(_answer(decided))
    except approval_links.LinkInvalid as exc:
        status = 403
        raise ApiError(403, "forbidden", str(exc), {"job": job_id}) from None
    except approval.Refused as exc:
        status = exc.status
        raise ApiError(exc.status, exc.code, exc.message, {"job": job_id}) from None
    except ApiError as exc:
        status = exc.status
        raise
    finally:
        _audit(decision, target, status, details)


def _link_note() -> str | None:
    """The form's `note` field (or a JSON body's), cut to MAX_NOTE."""
    body = request.get_json(silent=True) if request.is_json else None
    note = request.form.get("note") if request.form else body.get("note") if isinstance(body, dict) else None
    return note[: approval.MAX_NOTE] if isinstance(note, str) else None


def _audit(decision: str, target: dict, status: int, details: dict) -> None:
    try:
        guard.access().audit.append(
            LINK_ACTOR, "link", "approve", target, guard.outcome(status), status, request.remote_addr, details
        )
    except UNAVAILABLE:
        current_app.logger.error(
            "audit record lost: %s %s by %s -> %s", request.method, request.path, LINK_ACTOR, status
        )
