"""Rollback, redeploy and undeploy: a confirmation page, then a CSRF-checked POST with the operator's token."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from totem_client import ServiceError
from totem_dashboard import security
from totem_dashboard.render import clients

blueprint = Blueprint("actions", __name__)
ACTIONS = {"rollback": "Roll back", "redeploy": "Redeploy", "undeploy": "Undeploy"}


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
        version=request.args.get("version", "").strip()[:128],
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
    version = request.form.get("version", "").strip()[:128] or None
    deployer = clients().deployer.with_token(token)
    try:
        if action == "rollback":
            done = deployer.rollback(name, version)
            flash(f"Rollback of {name} to {done['version']} requested ({done['id']}).", "ok")
        elif action == "redeploy":
            live = deployer.app(name).get("live")
            target = version or (deployer.deployment(live)["version"] if live else None)
            if not target:
                raise ServiceError("dashboard", 409, "nothing_live", f"{name} has no live version to redeploy")
            done = deployer.rollback(name, target)
            flash(f"Redeploy of {name} {target} requested ({done['id']}).", "ok")
        else:
            deployer.undeploy(name, version)
            flash(f"Undeploy of {name}{' ' + version if version else ''} requested.", "ok")
    except ServiceError as exc:
        if exc.status in (401, 403):
            return render_template("refused.html", name=name, reason=f"The deployer refused: {exc.message}"), 401
        flash(f"{ACTIONS[action]} failed: {exc.message}", "error")
    return redirect(url_for("apps.show_app", name=name))
