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
    PREVIEW_READY = "PREVIEW_READY"  # the preview hosts serve the new version (and its gate opened)
    CANARY_WEIGHT_SET = "CANARY_WEIGHT_SET"  # a canary step's weight applied on every proxy
    ANALYSIS_PASSED = "ANALYSIS_PASSED"  # a canary step judged good (or promoted by the operator)
    ANALYSIS_FAILED = "ANALYSIS_FAILED"  # a canary step judged bad: the failing checks, values, thresholds
    ROLLOUT_COMPLETE = "ROLLOUT_COMPLETE"  # every canary step passed: the switch comes next
    PROMOTE_REQUESTED = "PROMOTE_REQUESTED"  # the operator ended a wait (manual step, preview gate)
    ABORT_REQUESTED = "ABORT_REQUESTED"  # the operator asked to stop the deployment
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


# Where a canary or preview rollout is (the record's `rollout.phase`; deployer/rollout.py)
class Phase(StrEnum):
    """A rollout's phase, as `record["rollout"]["phase"]` shows it."""

    STARTING = "starting"  # instances starting and checked; no traffic yet
    PREVIEWING = "previewing"  # the preview hosts serve the new version
    AWAITING_PROMOTE = "awaiting-promote"  # a manual step or the preview gate waits for `promote`
    ANALYSING = "analysing"  # a step's weight is live and judged
    WAITING = "waiting"  # the app's traffic is paused at the proxy: the step's clock stands still
    SWITCHING = "switching"  # every step passed: the blue-green switch to 100 %
    PROMOTED = "promoted"
    ABORTED = "aborted"  # its analysis failed or the operator aborted, after traffic reached it
    FAILED = "failed"  # failed before any traffic reached it


ROLLOUT_PHASES = tuple(Phase)
PROMOTABLE = frozenset({Phase.AWAITING_PROMOTE, Phase.ANALYSING, Phase.WAITING})  # the phases a promote ends
