"""The deployer's API: apps, versions, deployments, rollback, undeploy."""

from __future__ import annotations

from urllib.parse import quote

from totem_client.base import ServiceClient


def _seg(value: str) -> str:
    return quote(value, safe="")


class DeployerClient(ServiceClient):
    service = "deployer"

    def apps(self) -> list[dict]:
        return self.get("/apps")["apps"]

    def app(self, name: str) -> dict:
        return self.get(f"/apps/{_seg(name)}")

    def versions(self, name: str) -> dict:
        return self.get(f"/apps/{_seg(name)}/versions")["versions"]

    def deployment(self, deployment_id: str) -> dict:
        return self.get(f"/deployments/{_seg(deployment_id)}")

    def deploy(self, request: dict, idempotency_key: str | None = None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/apps", json=request, auth=True, headers=headers)["deployment"]

    def rollback(self, name: str, version: str | None = None) -> dict:
        body = {"version": version} if version else None
        return self.request("POST", f"/apps/{_seg(name)}/rollback", json=body, auth=True)["deployment"]

    def undeploy(self, name: str, version: str | None = None) -> dict:
        path = f"/apps/{_seg(name)}" + (f"/versions/{_seg(version)}" if version else "")
        return self.request("DELETE", path, auth=True)
