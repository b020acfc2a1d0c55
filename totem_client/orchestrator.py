"""The orchestrator's API: jobs, events, undeploy, and signed generic hooks."""

from __future__ import annotations

from urllib.parse import quote

from totem import signed_post
from totem_client.base import ServiceClient, ServiceError, error_from


class OrchestratorClient(ServiceClient):
    service = "orchestrator"

    def jobs(self, owner=None, repo=None, ref=None, state=None, limit: int = 50, offset: int = 0) -> dict:
        return self.get("/jobs", owner=owner, repo=repo, ref=ref, state=state, limit=limit, offset=offset)

    def job(self, job_id: str) -> dict:
        return self.get(f"/jobs/{quote(job_id, safe='')}")

    def events(self, job=None, owner=None, repo=None, ref=None, limit: int = 100) -> list[dict]:
        return self.get("/events", job=job, owner=owner, repo=repo, ref=ref, limit=limit)["events"]

    def undeploy(self, owner: str, repo: str, ref: str) -> dict:
        path = "/apps/" + "/".join(quote(part, safe="") for part in (owner, repo)) + "/" + quote(ref, safe="/")
        return self.request("DELETE", path, auth=True)

    def send_hook(self, hook: dict, secret: str | None) -> dict:
        """POST a generic hook signed with the shared hook secret (the operator's `deploy --image`)."""
        if not secret:
            raise ServiceError(self.service, None, "no_secret", "set TOTEM_HOOK_SECRET to send hooks")
        response = signed_post.post_json(
            self.base_url + "/hooks/generic", hook, secret, session=self.session, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise error_from(self.service, response)
        return response.json() if response.content else {}
