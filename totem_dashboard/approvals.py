"""Approve or reject a job waiting for approval (AWAITING_APPROVAL): a confirmation page, then a
CSRF-checked POST to the orchestrator with the operator's token, whose own 403 decides who may."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from totem_client import ServiceError
from totem_dashboard import identity, security
from totem_dashboard.render import clients

blueprint = Blueprint("approvals", __name__)
AWAITING = "AWAITING_APPROVAL"
DECISIONS = {"approve": "Approve", "reject": "Reject"}
MAX_TEXT = 500


def _decision(decision: str) -> str:
    if decision not in DECISIONS:
        abort(404)
    return decision


@blueprint.get("/jobs/<job_id>/confirm/<decision>")
def confirm(job_id: str, decision: str):
    job = clients().orchestrator.job(job_id)
    return render_template(
        "confirm_job.html",
        job=job,
        decision=_decision(decision),
        label=DECISIONS[decision],
        waiting=job.get("state") == AWAITING,
    )


@blueprint.post("/jobs/<job_id>/<decision>")
def decide(job_id: str, decision: str):
    _decision(decision)
    back = url_for("activity.show_job", job_id=job_id)
    token = security.token()
    if token is None:
        flash(f"Sign in to {decision} a job.", "error")
        return redirect(url_for("auth.login", next=back), code=303)
    if not security.csrf_ok(request.form.get("csrf")):
        abort(400, "the form expired; reload the page and try again")
    text = request.form.get("text", "").strip()[:MAX_TEXT] or None
    seen = request.form.get("commit", "").strip()[:64] or None  # the commit the confirmation page showed
    try:
        with identity.acting(clients().orchestrator, token) as orchestrator:
            if decision == "approve":
                orchestrator.approve(job_id, text, seen)
                flash(f"Job {job_id[:12]} approved: it goes on.", "ok")
            else:
                orchestrator.reject(job_id, text, seen)
                flash(f"Job {job_id[:12]} rejected.", "ok")
    except ServiceError as exc:
        signed_out = identity.ended(exc)
        if signed_out is not None:
            return signed_out
        refused = "refused" if exc.status == 403 else "failed"
        flash(f"{DECISIONS[decision]} {refused}: {exc.message}", "error")
    return redirect(back)
