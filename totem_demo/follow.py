"""Follow one pushed commit through image factory, orchestrator and deployer until it is live or fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from deployer.states import State as DeploymentState
from image_factory.states import BuildStatus
from orchestrator.states import State as JobState
from totem import waiting
from totem.contracts.hook import HookStatus
from totem.settings import Settings
from totem_demo import timeline

POLL = 0.25


@dataclass
class Outcome:
    status: str = "pending"  # live | failed | timeout
    reason: str = ""
    milestones: dict[str, float] = field(default_factory=dict)
    deployment: dict | None = None
    job: dict | None = None


def _get(url: str, **params) -> dict | None:
    try:
        response = requests.get(url, params=params, timeout=5)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def page(host: str, proxy: str, path: str = "/") -> tuple[int, str]:
    """What the proxy answers for `host` (sent as the Host header to the proxy on loopback)."""
    try:
        response = requests.get(f"http://{proxy}{path}", headers={"Host": host}, timeout=5)
        return response.status_code, response.text.strip()
    except requests.RequestException as exc:
        return 0, type(exc).__name__


class Follower:
    def __init__(self, settings: Settings, owner: str, repo: str, ref: str, commit: str, proxy: str):
        self.settings, self.owner, self.repo, self.ref, self.commit = settings, owner, repo, ref, commit
        self.proxy = proxy

    def build(self) -> dict | None:
        found = _get(
            f"{self.settings.image_factory_url}/builds",
            owner=self.owner,
            repo=self.repo,
            ref=self.ref,
            commit=self.commit,
        )
        builds = (found or {}).get("builds") or []
        return builds[0] if builds else None

    def job(self) -> dict | None:
        found = _get(f"{self.settings.orchestrator_url}/jobs", owner=self.owner, repo=self.repo, ref=self.ref)
        for job in (found or {}).get("jobs") or []:
            if job.get("commit") == self.commit:
                return _get(f"{self.settings.orchestrator_url}/jobs/{job['id']}") or job
        return None

    def deployment(self, job: dict) -> dict | None:
        for result in ((job.get("deploy") or {}).get("deployers") or {}).values():
            deployment = (result.get("response") or {}).get("deployment") or {}
            if deployment.get("id"):
                return _get(f"{self.settings.deployer_url}/deployments/{deployment['id']}")
        return None

    def milestones(self, build: dict | None, job: dict | None, deployment: dict | None) -> dict[str, float]:
        points: dict[str, float] = {}
        if build and build.get("created_at"):
            points["webhook received"] = build["created_at"]
        if build and build.get("status") == BuildStatus.SUCCEEDED and build.get("finished_at"):
            points["image built"] = build["finished_at"]
        for key, hook in ((job or {}).get("hooks") or {}).items():
            if key.startswith("ci:") and hook.get("status") in (HookStatus.SUCCESS, HookStatus.FAILED):
                points["CI reported"] = hook["received"]
        for event in (job or {}).get("events") or []:
            if event["type"] == "DEPLOY_REQUESTED":
                points.setdefault("deploy requested", timeline.epoch(event["date"]))
        for event in (deployment or {}).get("timeline") or []:
            name = timeline.DEPLOYER_EVENTS.get(event["type"])
            if name:
                points.setdefault(name, timeline.epoch(event["date"]))
        return points

    def wait(
        self,
        host: str,
        expected: str,
        timeout: float,
        on_milestone: Callable[[str, float], None] = lambda name, at: None,
    ) -> Outcome:
        """Poll until the deployment is promoted (older versions drained) and `host` answers `expected`."""
        outcome = Outcome()

        def settled() -> bool:
            build, job = self.build(), self.job()
            deployment = self.deployment(job) if job else None
            outcome.job, outcome.deployment = job, deployment
            for name, at in sorted(self.milestones(build, job, deployment).items(), key=lambda item: item[1]):
                if name not in outcome.milestones:
                    outcome.milestones[name] = at
                    on_milestone(name, at)
            failure = self._failure(build, job, deployment)
            if failure:
                outcome.status, outcome.reason = "failed", failure
                return True
            state = (deployment or {}).get("state")
            if state == DeploymentState.PROMOTED and page(host, proxy=self.proxy) == (200, expected):
                outcome.status = "live"
                return True
            return False

        try:
            waiting.wait(settled, timeout, interval=POLL, what=f"{host} live")
        except waiting.WaitTimeout:
            outcome.status, outcome.reason = "timeout", f"not live within {timeout:.0f}s"
        return outcome

    @staticmethod
    def _failure(build: dict | None, job: dict | None, deployment: dict | None) -> str:
        if build and build.get("status") == BuildStatus.FAILED:
            return f"image build failed: {build.get('error')}"
        if job and job.get("state") in (JobState.FAILED, JobState.NOOP):
            return f"job {job['state']}: {job.get('error') or job.get('reason') or ''}".strip()
        if deployment and deployment.get("state") == DeploymentState.FAILED:
            return f"deployment FAILED: {deployment.get('error')}"
        return ""
