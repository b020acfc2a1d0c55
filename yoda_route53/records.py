"""The record sets yoda-route53 wants: one per proxy node, each with an ownership TXT record.

Like external-dns, ownership is a TXT record set next to each record set (same
SetIdentifier) under a prefixed name, so CNAMEs can be owned too. Record sets
without our TXT record are never changed or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

ROUTING = ("weighted", "multivalue")


def fqdn(name: str) -> str:
    return name.strip().lower().rstrip(".") + "."


@dataclass(frozen=True)
class RecordSpec:
    name: str  # fully qualified, trailing dot
    type: str = "A"  # A or CNAME
    ttl: int = 60
    routing: str = "weighted"  # or "multivalue"
    owner_id: str = "default"
    txt_prefix: str = "yoda-owner."

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", fqdn(self.name))
        if self.type not in ("A", "CNAME"):
            raise ValueError(f"record type must be A or CNAME, not {self.type!r}")
        if self.routing not in ROUTING:
            raise ValueError(f"routing must be one of {ROUTING}")
        if self.type == "CNAME" and self.routing == "multivalue":
            raise ValueError("Route53 does not allow multivalue answer CNAME records; use --weighted")
        if not 0 <= self.ttl <= 2147483647:
            raise ValueError("ttl out of range")

    @property
    def owner_name(self) -> str:
        return fqdn(self.txt_prefix + self.name)

    @property
    def owner_value(self) -> str:
        return f'"heritage=yoda-route53,yoda-route53/owner={self.owner_id}"'

    def _routing(self) -> dict:
        return {"Weight": 1} if self.routing == "weighted" else {"MultiValueAnswer": True}

    def record_set(self, node: str, address: str) -> dict:
        return {
            "Name": self.name,
            "Type": self.type,
            "SetIdentifier": node,
            "TTL": self.ttl,
            "ResourceRecords": [{"Value": address}],
            **self._routing(),
        }

    def owner_record_set(self, node: str) -> dict:
        return {
            "Name": self.owner_name,
            "Type": "TXT",
            "SetIdentifier": node,
            "TTL": self.ttl,
            "ResourceRecords": [{"Value": self.owner_value}],
            **self._routing(),
        }

    def is_record(self, rrset: dict) -> bool:
        return fqdn(rrset["Name"]) == self.name and rrset["Type"] == self.type and "SetIdentifier" in rrset

    def is_owner_txt(self, rrset: dict) -> bool:
        return fqdn(rrset["Name"]) == self.owner_name and rrset["Type"] == "TXT" and "SetIdentifier" in rrset

    def is_ours(self, owner_txt: dict) -> bool:
        return any(r.get("Value") == self.owner_value for r in owner_txt.get("ResourceRecords", []))


def same(want: dict, have: dict | None) -> bool:
    """Does the record set in Route53 already say what we want?"""
    if have is None:
        return False
    return all(have.get(k) == v for k, v in want.items() if k != "Name") and fqdn(have["Name"]) == want["Name"]
