"""Faults are not outages (issue #14), the deployer's side, each under load through the real proxy:
the Docker engine restarted, the deployer worker killed mid-deployment, yoda-discover killed.
The scenarios are tests/faults/deployer.py's (bench/faults.py prints the same outcomes)."""

from __future__ import annotations

import pytest

from tests.faults import deployer as faults
from tests.fixtures.deployer.harness import DeployerStack

pytest_plugins = ["tests.images.fixtures"]  # docker_client
DISCOVER_TTL = 5  # the endpoints' lease of the harness's yoda-discover (tests.support.discover_watch_args)


@pytest.fixture(scope="module")
def stack(docker_client):
    """No reconcile: a resumed deployment must leave nothing for it to repair."""
    stack = DeployerStack(docker_client, drain=2.0).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def reconciling_stack(docker_client):
    stack = DeployerStack(docker_client, reconcile_interval=1.0).start()
    yield stack
    stack.stop()


def test_docker_restart_with_live_restore_fails_nothing(docker_client):
    outcome = faults.docker_restart(docker_client, live_restore=True)
    print(outcome.line())
    assert outcome.stuck == []
    assert outcome.failed == 0


def test_docker_restart_without_live_restore_brings_the_instances_back(docker_client):
    """Every instance stops with the engine; the restart policy starts them with it again."""
    outcome = faults.docker_restart(docker_client, live_restore=False)
    print(outcome.line())
    assert outcome.stuck == []
    assert outcome.recovered_s <= 5


@pytest.mark.parametrize("moment", faults.MOMENTS)
def test_killed_worker_is_resumed_without_a_failed_request(stack, moment):
    outcome = faults.worker_killed(stack, moment)
    print(outcome.line())
    assert outcome.stuck == []
    assert outcome.failed == 0


def test_killed_discover_is_bridged_by_the_reconcile(reconciling_stack):
    """Its endpoints go when their lease runs out; the reconcile registers them again at once (and
    yoda-proxy's grace period keeps them in rotation meanwhile, so nothing need fail)."""
    outcome = faults.sidekick_killed(reconciling_stack, DISCOVER_TTL)
    print(outcome.line())
    assert outcome.stuck == []
    assert outcome.recovered_s <= DISCOVER_TTL + 2
