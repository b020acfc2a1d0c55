"""The phases of a deployment, from the webhook to promotion, with start, end and duration.

Each phase ends at a milestone found in the job (orchestrator), the build (image factory) or the
deployment's own timeline (deployer); it starts where the previous milestone ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from totem.contracts.hook import HookStatus
from totem.contracts.phases import DEPLOYER_MILESTONES
from totem_dashboard.times import epoch

PHASES = ("webhook", "build", "CI") + tuple(name for name, _ in DEPLOYER_MILESTONES)


@dataclass
class Phase:
    name: str
    start: float | None = None
    end: float | None = None
    status: str = "pending"  # done | pending | failed | skipped
    offset: float = 0.0  # percent of the whole span, for the chart
    width: float = 0.0

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(0.0, self.end - self.start)


def _event_time(events: list[dict], names: tuple[str, ...]) -> float | None:
    for name in names:
        stamps = [epoch(e.get("date")) for e in events if e.get("type") == name]
        times = [t for t in stamps if t is not None]
        if times:
            return min(times)
    return None


def _hook_times(job: dict | None, kind: str) -> list[float]:
    hooks = (job or {}).get("hooks") or {}
    return [
        t
        for h in hooks.values()
        if h.get("type") == kind and h.get("status") == HookStatus.SUCCESS
        for t in [epoch(h.get("received"))]
        if t is not None
    ]


def _pipeline_milestones(job: dict | None, build: dict | None) -> dict[str, float | None]:
    if not job:
        return {"webhook": None, "build": None, "CI": None}
    pushes = _hook_times(job, "scm-push")
    starts = (epoch(job.get("created")), epoch((build or {}).get("created_at")))
    candidates = pushes + [t for t in starts if t is not None]
    webhook = min(candidates) if candidates else None
    built = _hook_times(job, "builder")
    build_end = max(built) if built else epoch((build or {}).get("finished_at"))
    ci = _hook_times(job, "ci")
    return {"webhook": webhook, "build": build_end, "CI": max(ci) if ci else None}


def phases(deployment: dict, job: dict | None = None, build: dict | None = None) -> list[Phase]:
    events = deployment.get("timeline") or deployment.get("events") or []
    if any(e.get("type") == "ROLLBACK_REQUESTED" for e in events):
        job = build = None  # a rollback reuses an earlier request: no webhook, build or CI of its own
    marks = _pipeline_milestones(job, build)
    for name, types in DEPLOYER_MILESTONES:
        marks[name] = _event_time(events, types)
    failed_at = _event_time(events, ("DEPLOYMENT_FAILED",))
    result: list[Phase] = []
    previous = None
    for name in PHASES:
        phase = Phase(name)
        at = marks[name]
        if at is not None:
            phase.start = previous if previous is not None else at
            phase.end = at
            phase.status = "done"
            previous = at
        elif name in ("webhook", "build", "CI") and (job is None or marks["deploy"] is not None):
            phase.status = "skipped"
        elif failed_at is not None and not any(p.status == "failed" for p in result):
            phase.start, phase.end, phase.status = previous, failed_at, "failed"
        result.append(phase)
    _place(result)
    return result


def _place(result: list[Phase]) -> None:
    starts = [p.start for p in result if p.start is not None]
    ends = [p.end for p in result if p.end is not None]
    if not starts:
        return
    first, span = min(starts), max(max(ends) - min(starts), 1e-6)
    for phase in result:
        if phase.start is not None and phase.end is not None:
            phase.offset = round(100 * (phase.start - first) / span, 2)
            phase.width = max(round(100 * (phase.end - phase.start) / span, 2), 0.5)
