"""Follower slots: at most `limit` at once, each released once, safe across threads; the setting."""

from __future__ import annotations

import threading

import pytest

from image_factory.settings import ImageFactorySettings
from totem.api.followers import FollowerSlots
from totem.api.gunicorn_conf import threads
from totem.settings import SettingsError


def test_slots_are_capped_and_each_release_counts_once():
    slots = FollowerSlots(2)
    first, second = slots.take(), slots.take()
    assert first and second and slots.take() is None and slots.taken == 2
    first()
    first()  # a second release (the stream ended, then its answer was closed) gives nothing back twice
    assert slots.taken == 1
    third = slots.take()
    assert third and slots.take() is None
    second()
    third()
    assert slots.taken == 0


def test_slots_hold_under_contention():
    slots = FollowerSlots(3)
    most = [0]
    lock = threading.Lock()
    start = threading.Barrier(16)

    def follower():
        start.wait()
        for _ in range(500):
            release = slots.take()
            if release:
                with lock:
                    most[0] = max(most[0], slots.taken)
                release()
                release()

    workers = [threading.Thread(target=follower) for _ in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert slots.taken == 0 and 1 <= most[0] <= 3


def test_the_default_cap_is_well_under_a_workers_threads():
    assert ImageFactorySettings.from_env({}).max_followers == 4 <= threads // 2
    assert ImageFactorySettings.from_env({"TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS": "2"}).max_followers == 2
    with pytest.raises(SettingsError, match="TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS"):
        ImageFactorySettings.from_env({"TOTEM_IMAGE_FACTORY_MAX_FOLLOWERS": "0"})
