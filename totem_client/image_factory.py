"""The image factory's API: builds and their logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast
from urllib.parse import quote

from totem_client.base import ServiceClient, error_from


class ImageFactoryClient(ServiceClient):
    service = "image_factory"

    def builds(
        self, owner=None, repo=None, ref=None, commit=None, status=None, limit: int = 20, offset: int = 0
    ) -> dict:
        return self.get(
            "/builds", owner=owner, repo=repo, ref=ref, commit=commit, status=status, limit=limit, offset=offset
        )

    def build(self, build_id: str) -> dict:
        return self.get(f"/builds/{quote(build_id, safe='')}")

    def create_build(self, owner: str, repo: str, ref: str, commit: str, force: bool = False) -> dict:
        body = {"owner": owner, "repo": repo, "ref": ref, "commit": commit, "force": force}
        return self.request("POST", "/builds", json=body, auth=True)["build"]

    def log(self, build_id: str) -> str:
        return self.request("GET", f"/builds/{quote(build_id, safe='')}/log", raw=True).text

    def follow_log(self, build_id: str) -> Iterator[tuple[str, str]]:
        """(event, data) pairs from the live log stream: `line` events, then one `end` with the status."""
        path = f"/builds/{quote(build_id, safe='')}/log"
        response = self.session.get(
            self.base_url + path,
            params={"follow": "1"},
            stream=True,
            headers={"Accept": "text/event-stream"},
            timeout=(self.timeout, 120),
        )
        if response.status_code >= 400:
            raise error_from(self.service, response)
        with response:
            event = "message"
            data: list[str] = []
            # A text/event-stream answer has an encoding (its charset, else ISO-8859-1), so
            # decode_unicode yields str lines.
            lines = cast(Iterator[str], response.iter_lines(decode_unicode=True))
            for line in lines:
                if line == "":
                    if data:
                        yield event, "\n".join(data)
                        if event == "end":
                            return
                    event, data = "message", []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
