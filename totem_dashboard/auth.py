"""Sign in with a token the services accept (`GET /whoami`; kept encrypted in the session cookie), sign out."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from totem_client import ServiceError
from totem_dashboard import identity, security
from totem_dashboard.render import clients

blueprint = Blueprint("auth", __name__)
MAX_TOKEN = 512


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("apps.list_apps")


def _plausible(token: str) -> bool:
    """Worth asking the services about: it fits in an Authorization header."""
    return 0 < len(token) <= MAX_TOKEN and token.isprintable() and not any(c.isspace() for c in token)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=_safe_next(request.args.get("next")))
    if not security.csrf_ok(request.form.get("csrf")):
        abort(400, "the form expired; reload the page and try again")
    given = request.form.get("token", "").strip()
    try:
        who = identity.whoami(clients(), given) if _plausible(given) else None
    except ServiceError as exc:
        if exc.status not in (401, 403):
            raise  # a service down: the error page says which
        who = None
    if who is None:
        return render_template(
            "login.html", next=_safe_next(request.form.get("next")), error="That token is not accepted."
        ), 401
    security.sign_in(given, who)
    flash(f"Signed in as {who.get('name')} ({who.get('role')}).", "ok")
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout():
    if not security.csrf_ok(request.form.get("csrf")):
        abort(400, "the form expired; reload the page and try again")
    security.sign_out()
    flash("Signed out.", "ok")
    return redirect(url_for("apps.list_apps"))
