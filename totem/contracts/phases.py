"""The deployer's phases of a deployment, one list for the dashboard timeline that shows them and the
metrics that time them (`totem_deployment_phase_seconds`).

Each phase ends at the first of its deployment events the timeline holds (the ones after the first
stand in for it), and starts where the previous phase ended; the first starts at NEW_DEPLOYMENT.
"""

from __future__ import annotations

DEPLOYER_MILESTONES = (
    ("deploy", ("DEPLOYMENT_STARTED", "NEW_DEPLOYMENT")),
    ("healthy", ("CHECK_PASSED",)),
    ("wired", ("WIRED",)),
    ("proxies applied", ("PROXIES_APPLIED",)),
    ("drained", ("DRAINED",)),
    ("promoted", ("DEPLOYMENT_PROMOTED",)),
)
FIRST_EVENT = "NEW_DEPLOYMENT"


def deployer_phases() -> tuple[tuple[str, str, str], ...]:
    """(phase, the event it starts at, the event it ends at), in order."""
    ends = [events[0] for _, events in DEPLOYER_MILESTONES]
    starts = [FIRST_EVENT, *ends[:-1]]
    return tuple((name, start, end) for (name, _), start, end in zip(DEPLOYER_MILESTONES, starts, ends, strict=True))
