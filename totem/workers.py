"""The Celery app factory: Redis broker and results, JSON only, late acks, one queue per service,
and the process's logging set up by `totem.logs.bootstrap` when the worker starts."""

from __future__ import annotations

from celery import Celery, signals
from kombu import Queue

from totem import logs
from totem.settings import Settings

LONGEST_TASK_SECONDS = 1800  # a build or deployment never runs longer than this (hard limit)
LOGGING_RECEIVER = "totem.logs.bootstrap"


def make_celery(service: str, settings: Settings | None = None, longest_task: int = LONGEST_TASK_SECONDS) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery(service, broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=longest_task,
        task_soft_time_limit=longest_task - 30,
        # a message unacked for this long is redelivered: keep it above the longest task
        broker_transport_options={"visibility_timeout": longest_task * 2},
        result_backend_transport_options={"visibility_timeout": longest_task * 2},
        result_expires=24 * 3600,
        task_default_queue=service,
        task_queues=[Queue(service)],
        task_routes={f"{service}.*": {"queue": service}},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        enable_utc=True,
    )

    # a receiver tells Celery to leave the root logger to us; it fires only when a worker starts.
    # One per process: the app made last (the worker module's) sets the service name.
    def bootstrap_logging(**_kwargs) -> None:
        logs.bootstrap(service, settings)

    signals.setup_logging.disconnect(dispatch_uid=LOGGING_RECEIVER)
    signals.setup_logging.connect(bootstrap_logging, weak=False, dispatch_uid=LOGGING_RECEIVER)

    @app.task(name=f"{service}.ping")
    def ping() -> str:
        return "pong"

    return app
