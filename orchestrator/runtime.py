"""What the API and the worker share: settings, the Redis client, the etcd store (made once, lazily)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import redis

from orchestrator.settings import OrchestratorSettings
from totem.logs import register_secret
from totem.settings import Settings

QUEUE = "orchestrator"  # the orchestrator worker's Celery queue, a list in the job store's Redis


@dataclass
class Runtime:
    settings: Settings
    options: OrchestratorSettings
    redis: redis.Redis = field(repr=False)

    @classmethod
    def create(cls, settings: Settings | None = None, options: OrchestratorSettings | None = None) -> Runtime:
        settings = settings or Settings.from_env()
        options = options or OrchestratorSettings.from_env()
        register_secret(settings.github_token)
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=5, socket_connect_timeout=3, decode_responses=True
        )
        return cls(settings, options, client)

    @functools.cached_property
    def store(self):
        from totem.store import connect

        return connect(self.settings.etcd_url)

    def key(self, *parts: str) -> str:
        return ":".join((self.options.redis_prefix, *parts))

    def job_url(self, job_id: str) -> str:
        return f"{self.settings.orchestrator_url.rstrip('/')}/jobs/{job_id}"

    @functools.cached_property
    def celery(self):
        from totem.workers import make_celery

        return make_celery("orchestrator", self.settings)

    def warm_up(self) -> None:
        """Import and build what the first `enqueue` would (Celery's app, router, result backend; no
        connection is made), so the first hooks a new API process answers do not pay for it."""
        self.celery.amqp.router  # noqa: B018 - built on first access
        self.celery.backend  # noqa: B018

    def enqueue(self, task: str, *args) -> None:
        """Queue an orchestrator task (names: process_job, undeploy). Nobody reads their results: not
        subscribing to them keeps the sender off the result backend (one Redis connection fewer to lose)."""
        self.celery.send_task(f"orchestrator.{task}", args=list(args), queue=QUEUE, ignore_result=True)
