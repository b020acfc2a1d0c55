"""The orchestrator's side of notifications (totem.notify): a job's notice to the channels of its
totem.yml, and a NOTIFICATION_FAILED event for each channel that failed."""

from __future__ import annotations

from orchestrator import events
from orchestrator.states import Event
from totem.notify import Delivery, Level, Notice, notify


def notice(rt, job: dict, level: Level, message: str, fields: dict | None = None, actions=()) -> Notice:
    git = {k: job[k] for k in ("owner", "repo", "ref", "commit")}
    link = rt.job_url(job["id"])
    env = rt.settings.env
    return Notice(
        level,
        message,
        "Orchestrator",
        link=link,
        env=env,
        git=git,
        fields={"job-id": job["id"], "job-url": link, "state": job["state"], "env": env, "git": git, **(fields or {})},
        actions=tuple(actions),
    )


def delivery(rt) -> Delivery:
    return Delivery(
        rt.options.notify_timeout, rt.settings.hook_secret, rt.settings.github_api_url, rt.settings.github_token
    )


def send(rt, job: dict, level: Level, message: str, fields: dict | None = None, actions=(), channels=None) -> None:
    """Tell the job's channels; a failing channel becomes an event, never an error of the job. `channels`
    given: only those, each whatever its level (a request for a decision is not a status to grade).
    `fields` and `actions`: as in Notice."""
    config = (job.get("config") or {}).get("notifications")
    if channels is not None:
        config = {
            name: {**channel, "level": level.label}
            for name, channel in (config or {}).items()
            if name in channels and isinstance(channel, dict)
        }
    outcome = notify(config, notice(rt, job, level, message, fields, actions), delivery(rt))
    failures = [
        events.make(Event.NOTIFICATION_FAILED, job, job["id"], {"channel": name, "error": error})
        for name, error in outcome.failed.items()
    ]
    if failures:
        events.record(rt, *failures)
