"""deployer/polling.py: looks until the condition holds, backing off; a clear timeout otherwise."""

from __future__ import annotations

import pytest

from deployer import polling
from totem.waiting import WaitTimeout


def test_returns_what_the_condition_gives_once_it_holds():
    looks = []

    def ready():
        looks.append(1)
        return "up" if len(looks) >= 4 else None

    assert polling.poll(ready, timeout=30, what="ready", first=0.001, longest=0.002) == "up"
    assert len(looks) == 4


def test_the_pauses_double_up_to_the_longest(monkeypatch):
    pauses = []
    monkeypatch.setattr(polling, "pause", pauses.append)
    answers = iter([None] * 6 + ["done"])
    polling.poll(lambda: next(answers), timeout=30, what="done", first=0.01, longest=0.05)
    assert pauses == [0.01, 0.02, 0.04, 0.05, 0.05, 0.05]


def test_gives_up_naming_what_it_waited_for():
    with pytest.raises(WaitTimeout, match="2 endpoint"):
        polling.poll(lambda: None, timeout=0.05, what="2 endpoint(s) under upstream x", first=0.01, longest=0.01)
