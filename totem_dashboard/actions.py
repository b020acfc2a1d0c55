"""Every operator action of the dashboard (rollback, redeploy, undeploy; promote, abort; pause, resume,
maintenance on/off): a confirmation page, then a CSRF-checked POST with the operator's token."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from totem_client import ServiceError
from totem_dashboard import security
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
        return render_template("refused.html", name=name, reason="Sign in with the API token to act."), 401
    if not security.csrf_ok(request.form.get("csrf")):
        return render_template("refused.html", name=name, reason="The form expired; reload and try again."), 400
    deployer = clients().deployer.with_token(token)
    try:
        flash(CALLS[action](deployer, name, request.form), "ok")
    except ServiceError as exc:
        if exc.status in (401, 403):
            return render_template("refused.html", name=name, reason=f"The deployer refused: {exc.message}"), 401
        flash(f"{ACTIONS[action]} failed: {exc.message}", "error")
    return redirect(url_for("apps.show_app", name=name))
