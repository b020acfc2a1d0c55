"""A push's way through the pipeline as milestones (epoch seconds), and the phases between them."""

from __future__ import annotations

from datetime import datetime

# Milestones in pipeline order; the phase ending at each one starts at the milestone named beside it.
MILESTONES = (
    ("webhook received", "pushed"),
    ("image built", "webhook received"),
    ("CI reported", "webhook received"),
    ("deploy requested", "gate open"),
    ("instances healthy", "deploy requested"),
    ("wired", "instances healthy"),
    ("proxies applied", "wired"),
    ("old version drained", "proxies applied"),
)
# Deployer timeline events that mark milestones.
DEPLOYER_EVENTS = {
    "CHECK_PASSED": "instances healthy",
    "WIRED": "wired",
    "PROXIES_APPLIED": "proxies applied",
    "DRAINED": "old version drained",
}


# The deployer's own steps, each timed from the event before it: where "deploy request → live" goes.
DEPLOYER_STEPS = (
    ("NEW_DEPLOYMENT", "queued (request → worker)", "DEPLOYMENT_STARTED"),
    ("DEPLOYMENT_STARTED", "containers started", "INSTANCES_STARTED"),
    ("INSTANCES_STARTED", "running", "INSTANCES_RUNNING"),
    ("INSTANCES_RUNNING", "discovered", "NODES_DISCOVERED"),
    ("NODES_DISCOVERED", "HTTP check", "CHECK_PASSED"),
    ("CHECK_PASSED", "wired", "WIRED"),
    ("WIRED", "proxies acked", "PROXIES_APPLIED"),
)


def epoch(date: str) -> float:
    return datetime.fromisoformat(date).timestamp()


def phases(milestones: dict[str, float]) -> list[tuple[str, float]]:
    """(phase name, seconds) for every milestone reached; the gate opens when build and CI are both in."""
    points = dict(milestones)
    if "image built" in points:
        points["gate open"] = max(points["image built"], points.get("CI reported", points["image built"]))
    found = []
    for name, start in MILESTONES:
        if name in points and start in points:
            found.append((name, max(0.0, points[name] - points[start])))
    if "webhook received" in points and "proxies applied" in points:
        found.append(("hook to live", points["proxies applied"] - points["webhook received"]))
    return found


def deployer_steps(events: list[dict]) -> list[tuple[str, float]]:
    """(step, seconds) from a deployment's timeline, and "request → live" (NEW_DEPLOYMENT → PROXIES_APPLIED)."""
    at: dict[str, float] = {}
    for event in events:
        at.setdefault(event["type"], epoch(event["date"]))
    found = [(name, at[end] - at[start]) for start, name, end in DEPLOYER_STEPS if start in at and end in at]
    if "NEW_DEPLOYMENT" in at and "PROXIES_APPLIED" in at:
        found.append(("request → live", at["PROXIES_APPLIED"] - at["NEW_DEPLOYMENT"]))
    return found


def format_phases(milestones: dict[str, float]) -> str:
    return "\n".join(f"  {name:<22} {seconds:7.2f}s" for name, seconds in phases(milestones))
