"""Job states and event names: two separate vocabularies.

Both are StrEnums: a member is its string, so jobs hold, compare and serialise the plain names.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "NEW"  # hooks arriving, config not loaded yet
    SCHEDULED = "SCHEDULED"  # config loaded, waiting for the required hooks
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # hooks passed; the approval policy waits for a decision
    DEPLOYING = "DEPLOYING"  # gate passed once; deploy requests being sent
    COMPLETE = "COMPLETE"  # every deployer accepted the request
    FAILED = "FAILED"  # a required hook failed, the config is invalid, or a deployer refused
    NOOP = "NOOP"  # disabled app, no enabled deployers, or frozen branch


ALL = tuple(State)
# a new commit may still replace the job's commit (a commit awaiting approval too: the newer one asks again)
OPEN = (State.NEW, State.SCHEDULED, State.AWAITING_APPROVAL)
FINAL = (State.COMPLETE, State.FAILED, State.NOOP)


class Event(StrEnum):
    NEW_JOB = "NEW_JOB"
    NEW_COMMIT = "NEW_COMMIT"
    HOOK_RECEIVED = "HOOK_RECEIVED"
    HOOK_IGNORED = "HOOK_IGNORED"
    COMMIT_IGNORED = "COMMIT_IGNORED"
    CONFIG_LOADED = "CONFIG_LOADED"
    CONFIG_INVALID = "CONFIG_INVALID"
    JOB_NOOP = "JOB_NOOP"
    HOOKS_PASSED = "HOOKS_PASSED"
    HOOK_FAILED = "HOOK_FAILED"
    HOOK_MISSING = "HOOK_MISSING"  # a required hook is late: what the image factory said of its build
    BUILD_REQUESTED = "BUILD_REQUESTED"  # no build of the commit: the orchestrator asked for one
    HOOK_RECOVERED = "HOOK_RECOVERED"  # a finished build whose hook never came, recorded as that hook
    HOOK_TIMEOUT = "HOOK_TIMEOUT"  # still missing at the deadline: the job fails
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    DEPLOY_REQUESTED = "DEPLOY_REQUESTED"
    DEPLOY_ACCEPTED = "DEPLOY_ACCEPTED"
    DEPLOY_REJECTED = "DEPLOY_REJECTED"
    JOB_COMPLETE = "JOB_COMPLETE"
    JOB_FAILED = "JOB_FAILED"
    BRANCH_FROZEN = "BRANCH_FROZEN"
    BRANCH_UNFROZEN = "BRANCH_UNFROZEN"
    UNDEPLOY_REQUESTED = "UNDEPLOY_REQUESTED"
    UNDEPLOY_FAILED = "UNDEPLOY_FAILED"
    NOTIFICATION_FAILED = "NOTIFICATION_FAILED"
