"""`POST /hooks/github`: signed push events start builds; everything else is acknowledged."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from image_factory.intake import intake, submit
from totem import metrics
from totem.github import first_delivery, forget_delivery, push_ref, read_delivery

blueprint = Blueprint("github", __name__)
SERVICE = "image_factory"


@blueprint.post("/hooks/github")
def github_hook():
    settings = current_app.config["TOTEM_SETTINGS"]
    delivery = read_delivery(
        request.headers, request.get_data(cache=False), settings.hook_secret, settings.insecure_dev
    )
    if delivery.event == "ping":
        return jsonify({"status": "pong"}), 200
    if delivery.event != "push":
        return "", 204
    ref = push_ref(delivery.payload)
    if ref.deleted:
        return "", 204
    redis = intake().factory.store.redis
    if not first_delivery(redis, SERVICE, delivery.delivery):
        return jsonify({"status": "duplicate", "delivery": delivery.delivery}), 200
    try:
        record, created = submit(ref.as_git(), trigger=f"github:{delivery.delivery or 'unknown'}")
    except Exception:
        forget_delivery(redis, SERVICE, delivery.delivery)  # let GitHub's redelivery through
        metrics.hook_received(SERVICE, "github-push", "error")
        raise
    metrics.hook_received(SERVICE, "github-push", "accepted" if created else "reused")
    return jsonify({"status": "queued" if created else "reused", "build": record}), 202 if created else 200
