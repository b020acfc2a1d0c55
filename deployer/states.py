"""Deployment states (where a deployment is) and event names (what happened to it) — kept apart.

Both are StrEnums: a member is its string, so records hold, compare and serialise the plain names.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "NEW"
    STARTED = "STARTED"
    PROMOTED = "PROMOTED"
    DECOMMISSIONED = "DECOMMISSIONED"
    FAILED = "FAILED"


TERMINAL = frozenset({State.PROMOTED, State.DECOMMISSIONED, State.FAILED})
ACTIVE = frozenset({State.NEW, State.STARTED})


class Event(StrEnum):
    NEW_DEPLOYMENT = "NEW_DEPLOYMENT"
    DEPLOYMENT_STARTED = "DEPLOYMENT_STARTED"  # lock acquired, work begins
    OTHERS_STOPPED = "OTHERS_STOPPED"  # red-green: older versions stopped first
    INSTANCES_STARTED = "INSTANCES_STARTED"
    INSTANCES_RUNNING = "INSTANCES_RUNNING"
    NODES_DISCOVERED = "NODES_DISCOVERED"
    CHECK_PASSED = "CHECK_PASSED"
    WIRED = "WIRED"
    PROXIES_APPLIED = "PROXIES_APPLIED"
    DRAINED = "DRAINED"
    JOB_SCHEDULED = "JOB_SCHEDULED"  # a scheduled job's definition in place: nothing runs until its time
    DEPLOYMENT_PROMOTED = "DEPLOYMENT_PROMOTED"
    DEPLOYMENT_FAILED = "DEPLOYMENT_FAILED"
    WIRING_RESTORED = "WIRING_RESTORED"
    INSTANCES_REMOVED = "INSTANCES_REMOVED"
    DECOMMISSIONED = "DECOMMISSIONED"
    ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
    UNDEPLOY_REQUESTED = "UNDEPLOY_REQUESTED"
    INSTANCE_RESTARTED = "INSTANCE_RESTARTED"
    INSTANCE_MOVED = "INSTANCE_MOVED"  # reconcile: off a host that does not answer, onto one that does
    ORPHAN_REMOVED = "ORPHAN_REMOVED"
    ENDPOINT_REPAIRED = "ENDPOINT_REPAIRED"  # reconcile registered an endpoint yoda-discover had not
    DRIFT = "DRIFT"
