"""Schedulers registered by name; the cluster's is chosen with TOTEM_SCHEDULER."""

from __future__ import annotations

from collections.abc import Callable

from deployer.schedulers.base import Instance, Scheduler


def _docker(ctx) -> Scheduler:
    from deployer.schedulers.docker import DockerScheduler

    return DockerScheduler(ctx)


def _swarm(ctx) -> Scheduler:
    from deployer.schedulers.swarm import SwarmScheduler

    return SwarmScheduler(ctx)


def _fleet(ctx) -> Scheduler:
    from deployer.schedulers.fleet import FleetScheduler

    return FleetScheduler(ctx)


SCHEDULERS: dict[str, Callable[..., Scheduler]] = {"docker": _docker, "swarm": _swarm, "fleet": _fleet}


def get(name: str, ctx) -> Scheduler:
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)}")
    return SCHEDULERS[name](ctx)


__all__ = ["Instance", "SCHEDULERS", "Scheduler", "get"]
