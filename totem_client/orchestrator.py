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

    def approve(self, job_id: str, comment: str | None = None, commit: str | None = None) -> dict:
        """Approve a job awaiting approval (docs/approvals.md); `commit`: only if it still holds this one."""
        return self._decide(job_id, "approve", {"comment": comment, "commit": commit})

    def reject(self, job_id: str, reason: str | None = None, commit: str | None = None) -> dict:
        return self._decide(job_id, "reject", {"reason": reason, "commit": commit})

    def _decide(self, job_id: str, decision: str, fields: dict) -> dict:
        body = {k: v for k, v in fields.items() if v}
        return self.request("POST", f"/jobs/{quote(job_id, safe='')}/{decision}", json=body, auth=True)

    def undeploy(self, owner: str, repo: str, ref: str) -> dict:
        path = "/apps/" + "/".join(quote(part, safe="") for part in (owner, repo)) + "/" + quote(ref, safe="/")
        return self.request("DELETE", path, auth=True)

    def create_token(self, name: str, role: str, scopes=None, envs=None, ttl: str | int | None = None) -> dict:
        body = {"name": name, "role": role, "scopes": scopes or None, "envs": envs or None, "ttl": ttl}
        return self.request("POST", "/tokens", json={k: v for k, v in body.items() if v is not None}, auth=True)

    def tokens(self) -> list[dict]:
        return self.request("GET", "/tokens", auth=True)["tokens"]

    def revoke_token(self, name: str) -> dict:
        return self.request("DELETE", f"/tokens/{quote(name, safe='')}", auth=True)

    def whoami(self) -> dict:
        return self.request("GET", "/whoami", auth=True)

    def audit(self, app=None, actor=None, action=None, since=None, until=None, limit: int = 100) -> list[dict]:
        """Audit records, newest first (GET /audit; times as Unix seconds, ISO 8601 or 24h ago)."""
        params = {"app": app, "actor": actor, "action": action, "since": since, "until": until, "limit": limit}
        return self.request("GET", "/audit", params=params, auth=True)["records"]

    def audit_export(self, app=None, actor=None, action=None, since=None, until=None, limit: int = 100) -> str:
        """The same records as JSON lines, oldest first (GET /audit?format=jsonl)."""
        params = {"app": app, "actor": actor, "action": action, "since": since, "until": until, "limit": limit}
        response = self.request("GET", "/audit", params={**params, "format": "jsonl"}, auth=True, raw=True)
        return response.text

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
