"""`POST /hooks/github | /hooks/travis | /hooks/generic`: verify, parse, persist, answer 202 with the job.

GitHub deliveries come as JSON or form-encoded (`payload=`), whichever the webhook is set to."""

from __future__ import annotations

import contextlib

import redis
from flask import Blueprint, current_app, g, jsonify, request
from kombu.exceptions import OperationalError

from orchestrator.hooks import generic, github, intake, travis, trigger
from orchestrator.runtime import Runtime
from totem import metrics
from totem.api import ApiError
from totem.github import first_delivery, forget_delivery, read_delivery

blueprint = Blueprint("hooks", __name__)
SERVICE = "orchestrator"


def runtime() -> Runtime:
    return current_app.extensions["orchestrator"]


@contextlib.contextmanager
def persisting():
    """Storage or queue down → 503, so the sender retries later."""
    try:
        yield
    except (redis.RedisError, OperationalError, OSError):
        metrics.store_error("redis")
        current_app.logger.warning("could not persist a hook", exc_info=True)
        raise ApiError(
            503, "unavailable", "the hook could not be stored; retry later", None, {"Retry-After": "5"}
        ) from None


def accepted(answers: list[dict]):
    """202 when any hook was taken, else 200; one hook's answer, or several under `hooks`."""
    taken = any(a["status"] == "accepted" for a in answers)
    body = answers[0] if len(answers) == 1 else {"status": "accepted" if taken else "ignored", "hooks": answers}
    status = 202 if taken else 200
    response = jsonify(body)
    response.status_code = status
    job = next((a["job"] for a in answers if "job" in a), None)
    if job:
        response.headers["Location"] = job["url"]
    return response


def _trigger(hook_type: str, receiver: str, sender: str | None, delivery: str | None = None) -> dict:
    """Who the hook acts for (hooks.trigger), from the request that brought it."""
    delivery = delivery or trigger.delivery_id(request.headers.get("X-GitHub-Delivery"), g.get("request_id"))
    return trigger.make(hook_type, receiver, sender, delivery, request.remote_addr)


@blueprint.after_request
def count_refused(response):
    """A hook refused before it reached a job (bad signature, body or size: a 4xx) is counted too,
    under its receiver's name, since its own type is unknown (docs/metrics.md)."""
    if 400 <= response.status_code < 500:
        metrics.hook_received(SERVICE, request.path.rpartition("/")[2], "refused")
    return response


@blueprint.post("/hooks/generic")
def generic_hook():
    rt = runtime()
    secret, insecure = rt.settings.hook_secret, rt.settings.insecure_dev
    hook, sender = generic.read_with_sender(request.headers, request.get_data(), secret, insecure)
    with persisting():
        return accepted([intake.accept(rt, hook, _trigger(hook.type, hook.source, sender))])


@blueprint.post("/hooks/travis")
def travis_hook():
    rt = runtime()
    hook = travis.read(request.form.get("payload"), request.headers.get("Signature"), rt.options.travis_public_key)
    if hook is None:
        return jsonify({"status": "ignored", "reason": "pull requests never deploy"}), 200
    with persisting():
        return accepted([intake.accept(rt, hook, _trigger(hook.type, hook.source, None))])


@blueprint.post("/hooks/github")
def github_hook():
    rt = runtime()
    delivery = read_delivery(request.headers, request.get_data(), rt.settings.hook_secret, rt.settings.insecure_dev)
    action = github.translate(delivery)
    if action.kind == "ping":
        return jsonify({"status": "pong", "zen": str(delivery.payload.get("zen", ""))[:200]}), 200
    if action.kind == "ignored":
        return jsonify({"status": "ignored", "reason": action.reason}), 200
    with persisting():
        if not first_delivery(rt.redis, SERVICE, delivery.delivery, rt.options.job_ttl):
            return jsonify({"status": "duplicate", "delivery": delivery.delivery}), 200
        try:
            if action.kind == "unfreeze":
                return accepted([intake.unfreeze(rt, action.ref)])
            if action.kind == "undeploy":
                ref = action.ref
                deleted_by = _trigger(
                    "scm-delete", "github", trigger.github_sender(delivery.payload), delivery.delivery
                )
                return accepted([intake.undeploy(rt, ref.owner, ref.repo, ref.ref, True, deleted_by)])
            sender = trigger.github_sender(delivery.payload)
            return accepted(
                [intake.accept(rt, h, _trigger(h.type, h.source, sender, delivery.delivery)) for h in action.hooks]
            )
        except Exception:
            with contextlib.suppress(redis.RedisError):  # let GitHub's redelivery through
                forget_delivery(rt.redis, SERVICE, delivery.delivery)
            raise
