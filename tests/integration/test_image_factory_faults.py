"""The image factory's worker killed (SIGKILL) mid-build, against real Redis, Docker and the registry:
the build never stays `running`; it is retried by the next worker, or failed with the reason once its
attempts are used. Scenarios: tests/faults/image_factory.py (also run by bench/faults.py)."""

from __future__ import annotations

from tests.faults.image_factory import build_worker_killed

RECOVERY = 60  # seconds: a dead build is found and retried (or failed) within a minute


def test_a_build_whose_worker_is_killed_is_retried_by_the_next_worker(tmp_path):
    """The push redelivered while no worker runs queues the dead build again (not `reused`)."""
    outcome = build_worker_killed(tmp_path, kills=1, attempts=3)
    print(outcome.line())
    assert outcome.stuck == []
    assert (outcome.sent, outcome.failed) == (2, 0)
    assert 0 < outcome.recovered_s < RECOVERY


def test_a_build_whose_workers_keep_dying_fails_with_the_reason(tmp_path):
    """The first death is found by a redelivered push, the next two by the next worker's sweep: the
    second attempt's is queued again, the third's failed with `the worker building it died 3 times`
    and a failed builder hook."""
    outcome = build_worker_killed(tmp_path, kills=3, attempts=3)
    print(outcome.line())
    assert outcome.stuck == []
    assert (outcome.sent, outcome.failed) == (2, 0)
    assert 0 < outcome.recovered_s < RECOVERY
