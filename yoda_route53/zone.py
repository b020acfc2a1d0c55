"""One Route53 hosted zone through boto3: read the record sets of a name, apply change batches."""

from __future__ import annotations

import logging
from typing import Any

from yoda_route53.records import fqdn
from yoda_route53.retry import with_backoff

log = logging.getLogger("yoda_route53.zone")


def normalize_zone_id(zone_id: str) -> str:
    return zone_id.strip().rsplit("/", 1)[-1]


class Zone:
    def __init__(self, client: Any, zone_id: str, attempts: int = 8):
        self.client = client
        self.id = normalize_zone_id(zone_id)
        self.attempts = attempts

    def _call(self, method: str, **kwargs: Any) -> dict:
        return with_backoff(lambda: getattr(self.client, method)(**kwargs), attempts=self.attempts)

    def name(self) -> str:
        return fqdn(self._call("get_hosted_zone", Id=self.id)["HostedZone"]["Name"])

    def record_sets(self, name: str) -> list[dict]:
        """Every record set named exactly `name`: listing starts at the name and stops past it."""
        name = fqdn(name)
        found: dict[tuple, dict] = {}
        params: dict[str, Any] = {"HostedZoneId": self.id, "StartRecordName": name, "MaxItems": "300"}
        asked = set()
        while True:
            page = self._call("list_resource_record_sets", **params)
            sets = page.get("ResourceRecordSets", [])
            matching = [r for r in sets if fqdn(r["Name"]) == name]
            found.update(((r["Name"], r["Type"], r.get("SetIdentifier")), r) for r in matching)
            if not page.get("IsTruncated") or len(matching) < len(sets):
                return list(found.values())
            start = (page["NextRecordName"], page["NextRecordType"], page.get("NextRecordIdentifier"))
            if start in asked:  # a server that cannot page within one name and type
                log.warning("listing %s stopped: no progress past %s", name, start)
                return list(found.values())
            asked.add(start)
            params = {
                "HostedZoneId": self.id,
                "StartRecordName": start[0],
                "StartRecordType": start[1],
                "MaxItems": "300",
                **({"StartRecordIdentifier": start[2]} if start[2] else {}),
            }

    def change(self, changes: list[dict], comment: str = "yoda-route53") -> None:
        self._call(
            "change_resource_record_sets", HostedZoneId=self.id, ChangeBatch={"Comment": comment, "Changes": changes}
        )
