"""Sign in with the API token (kept encrypted in the session cookie), sign out."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from totem_dashboard import security

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("apps.list_apps")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=_safe_next(request.args.get("next")))
    if not security.csrf_ok(request.form.get("csrf")):
        abort(400, "the form expired; reload the page and try again")
    given = request.form.get("token", "").strip()
    if not security.token_accepted(given, current_app.config["TOTEM_SETTINGS"].api_token):
        return render_template(
            "login.html", next=_safe_next(request.form.get("next")), error="That token is not accepted."
        ), 401
    security.sign_in(given)
    flash("Signed in.", "ok")
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout():
    if not security.csrf_ok(request.form.get("csrf")):
        abort(400, "the form expired; reload the page and try again")
    security.sign_out()
    flash("Signed out.", "ok")
    return redirect(url_for("apps.list_apps"))
