"""Delivery (DORA) figures on the dashboard: the global `/delivery` page and the app page's section
(`_delivery.html`), both from the deployer's `GET /metrics/delivery`, charted by static/delivery.js
with the vendored Chart.js (static/chart.umd.min.js: served by the dashboard itself, no CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from totem_client import ServiceError
from totem_dashboard.render import clients

blueprint = Blueprint("delivery", __name__)
WINDOWS = ("7d", "30d", "90d", "365d")
DEFAULT_WINDOW = "30d"


def delivery_report(app: str | None = None, window: str = DEFAULT_WINDOW) -> dict:
    """{"report", "error"}: the deployer's figures, or why there are none (the page still renders)."""
    try:
        return {"report": clients().deployer.delivery(app=app, window=window), "error": None}
    except ServiceError as exc:
        return {"report": None, "error": f"The deployer did not answer with delivery figures: {exc.message}"}


def chart_data(figures: dict) -> dict:
    """What static/delivery.js draws: per UTC day, the changes that succeeded and failed (a rolled-back
    one failed) and the median lead time in hours."""
    series = figures["series"]
    return {
        "days": [d["date"] for d in series],
        "succeeded": [d["deployments"] - d["failures"] for d in series],
        "failed": [d["failures"] for d in series],
        "lead_hours": [
            None if d["lead_time_median_seconds"] is None else round(d["lead_time_median_seconds"] / 3600, 3)
            for d in series
        ],
    }


@blueprint.app_context_processor
def helpers() -> dict:
    return {"delivery_report": delivery_report, "delivery_chart": chart_data, "delivery_windows": WINDOWS}


@blueprint.get("/delivery")
def show_delivery():
    window = request.args.get("window", DEFAULT_WINDOW)
    window = window if window in WINDOWS else DEFAULT_WINDOW
    return render_template("delivery.html", window=window, **delivery_report(window=window))
