"""Every operator action of the dashboard (rollback, redeploy, undeploy; promote, abort; pause, resume,
maintenance on/off): a confirmation page, then a CSRF-checked POST with the operator's token. The pages
offer only what the operator's role and scope allow; the deployer's own 403 still decides, shown here."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from totem_client import ServiceError
from totem_dashboard import identity, security
from totem_dashboard.action_calls import CALLS
from totem_dashboard.render import clients

blueprint = Blueprint("actions", __name__)
ACTIONS = {
    "rollback": "Roll back",
    "redeploy": "Redeploy",
    "undeploy": "Undeploy",
    "promote": "Promote",
    "abort": "Abort",
    "pause": "Pause",
    "resume": "Resume",
    "maintenance-on": "Maintenance on",
    "maintenance-off": "Maintenance off",
}
DANGER = frozenset({"undeploy", "abort", "maintenance-on"})


def _action(action: str) -> str:
    if action not in ACTIONS:
        abort(404)
    return action


@blueprint.get("/apps/<name>/confirm/<action>")
def confirm(name: str, action: str):
    app = clients().deployer.app(name)
    return render_template(
        "confirm.html",
        name=name,
        action=_action(action),
        label=ACTIONS[action],
        danger=action in DANGER,
        version=request.args.get("version", "").strip()[:128],
        full=request.args.get("full") == "1",
        app=app,
    )


@blueprint.post("/apps/<name>/<action>")
def act(name: str, action: str):
    _action(action)
    token = security.token()
    if token is None:
        return render_template(
            "refused.html", name=name, reason="Sign in with the API token to act (a deployer or admin token)."
        ), 401
    if not security.csrf_ok(request.form.get("csrf")):
        return render_template("refused.html", name=name, reason="The form expired; reload and try again."), 400
    try:
        with identity.acting(clients().deployer, token) as deployer:
            flash(CALLS[action](deployer, name, request.form), "ok")
    except ServiceError as exc:
        signed_out = identity.ended(exc)
        if signed_out is not None:
            return signed_out
        refused = "refused" if exc.status == 403 else "failed"
        flash(f"{ACTIONS[action]} {refused}: {exc.message}", "error")
    return redirect(url_for("apps.show_app", name=name))
