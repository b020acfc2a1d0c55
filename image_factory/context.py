"""The factory's shared objects (settings, config, Redis store, log archive), built once per process."""

from __future__ import annotations

import functools

import redis

from image_factory.log_archive import archive_for
from image_factory.pipeline import Factory
from image_factory.records import BuildStore
from image_factory.settings import ImageFactorySettings
from totem.settings import Settings


def make_factory(settings: Settings | None = None) -> Factory:
    settings = settings or Settings.from_env()
    config = ImageFactorySettings.from_env()
    client = redis.Redis.from_url(
        settings.redis_url, decode_responses=True, socket_timeout=30, socket_connect_timeout=5, health_check_interval=30
    )
    return Factory(settings, config, BuildStore(client, config.key_prefix), archive_for(config, settings))


@functools.lru_cache(maxsize=1)
def factory() -> Factory:
    return make_factory()
