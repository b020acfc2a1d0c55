"""`GET /metrics/delivery`: the four delivery (DORA) figures per app and overall over a window
(deployer/delivery.py defines them). Read like the other app reads (no token); a bad query is a 400."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request

from deployer import delivery
from deployer.api import APP_NAME, _shown
from totem.api import ApiError, invalid_parameter

blueprint = Blueprint("delivery", __name__)


@blueprint.get("/metrics/delivery")
def delivery_metrics():
    records = current_app.extensions["deployer"].ctx.records
    try:
        win = delivery.window(request.args.get("window", delivery.DEFAULT_WINDOW), datetime.now(UTC))
    except delivery.WindowError as exc:
        raise invalid_parameter("window", str(exc).removeprefix("window ")) from None
    app = request.args.get("app")
    if app is not None and not APP_NAME.fullmatch(app):
        raise invalid_parameter("app", f"must be an app name; got {_shown(app)}")
    names = [app] if app else records.apps()
    histories = {name: records.for_app(name) for name in names}
    if app and not histories[app]:
        raise ApiError(404, "not_found", f"no app named {_shown(app)}")
    return jsonify(delivery.report(histories, win))
