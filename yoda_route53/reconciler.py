"""Make the zone hold exactly one owned record set per live proxy node.

Creates or updates record sets for live nodes, deletes owned ones whose node is
gone, and leaves everything it does not own alone (a record set with the same
SetIdentifier but no ownership TXT record of ours is reported, not taken over).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from yoda_route53.batches import batches
from yoda_route53.records import RecordSpec, same
from yoda_route53.zone import Zone

log = logging.getLogger("yoda_route53.reconciler")


@dataclass
class Plan:
    groups: list[list[dict]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def plan(spec: RecordSpec, nodes: dict[str, str], current: list[dict]) -> Plan:
    records = {r["SetIdentifier"]: r for r in current if spec.is_record(r)}
    owner_txts = {r["SetIdentifier"]: r for r in current if spec.is_owner_txt(r)}
    owned = {node for node, txt in owner_txts.items() if spec.is_ours(txt)}
    result = Plan()
    for node, address in sorted(nodes.items()):
        if node not in owned and (node in records or node in owner_txts):
            result.conflicts.append(node)
            continue
        want, want_txt = spec.record_set(node, address), spec.owner_record_set(node)
        group = []
        if not same(want_txt, owner_txts.get(node)):
            group.append({"Action": "UPSERT", "ResourceRecordSet": want_txt})
        if not same(want, records.get(node)):
            group.append({"Action": "UPSERT", "ResourceRecordSet": want})
        if group:
            result.groups.append(group)
    for node in sorted(owned - set(nodes)):
        group = [{"Action": "DELETE", "ResourceRecordSet": owner_txts[node]}]
        if node in records:
            group.insert(0, {"Action": "DELETE", "ResourceRecordSet": records[node]})
        result.groups.append(group)
    return result


class Reconciler:
    def __init__(self, zone: Zone, spec: RecordSpec):
        self.zone = zone
        self.spec = spec

    def current(self) -> list[dict]:
        return self.zone.record_sets(self.spec.name) + self.zone.record_sets(self.spec.owner_name)

    def reconcile(self, nodes: dict[str, str], still_leader: Callable[[], bool] = lambda: True) -> int:
        """Apply the changes needed; returns how many were sent."""
        result = plan(self.spec, nodes, self.current())
        for node in result.conflicts:
            log.warning("%s %s set %r exists but is not ours; leaving it alone", self.spec.name, self.spec.type, node)
        sent = 0
        for batch in batches(result.groups):
            if not still_leader():
                log.warning("no longer leader; stopping before %d changes", len(batch))
                break
            self.zone.change(batch)
            sent += len(batch)
            log.info("applied %d changes to %s", len(batch), self.spec.name)
        return sent
