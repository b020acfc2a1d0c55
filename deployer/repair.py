"""Endpoints the reconcile registers itself when yoda-discover has not (its sidekick died, say).

Same key and value as yoda-discover's (totem/contracts/yoda.py), under a lease of LEASE_INTERVALS
reconcile intervals that each reconcile renews while the instance passes the gate's check: a dead
host's endpoints still go away on their own, and yoda-discover, once back, takes a key over by
writing it under its own lease (the deployer's then holds nothing). The leases live in the worker
process: after a restart they run out and the next reconcile writes the keys again.
"""

from __future__ import annotations

import requests

from deployer import gating
from deployer.records import Record
from totem.contracts import yoda as layout  # `yoda` here is the base prefix ("/yoda/")
from totem.store import Lease, Store

LEASE_INTERVALS = 3


class EndpointLeases:
    """The leases this process wrote endpoints under, by key."""

    def __init__(self, store: Store, ttl: int):
        self.store, self.ttl = store, ttl
        self._leases: dict[str, Lease] = {}

    def held(self, key: str) -> bool:
        return key in self._leases

    def register(self, key: str, value: str) -> bool:
        """Write `key` under a new lease unless it exists (yoda-discover wrote it meanwhile)."""
        lease = self.store.lease(self.ttl)
        if not self.store.create(key, value, lease):
            lease.revoke()
            return False
        self._leases[key] = lease
        return True

    def renew(self, key: str) -> None:
        lease = self._leases.get(key)
        if lease is not None and not lease.refresh():
            del self._leases[key]  # it ran out, and the key with it (if it was still ours)

    def release(self, key: str) -> None:
        """Delete the key now if it is still under this process's lease."""
        lease = self._leases.pop(key, None)
        if lease is not None:
            lease.revoke()


def repair_endpoints(ctx, record: Record, skip: set[str]) -> tuple[list[str], list[str]]:
    """Register (or renew) the endpoint of every instance that passes its check and that yoda-discover
    has not registered; `skip` the instances being restarted. Returns (repaired, still unregistered)."""
    leases: EndpointLeases = ctx.endpoint_leases
    registered = gating.endpoints(ctx.store, ctx.yoda, record)
    repaired, unregistered = [], []
    with requests.Session() as session:
        for node, where in sorted(record["instances"].items()):
            key = layout.endpoint_key(ctx.yoda, record["upstream"], node)
            if node in skip or (node in registered and not leases.held(key)):
                continue  # restarting, or yoda-discover's own registration
            value = layout.endpoint_value(where["address"], where["port"])
            if not where["address"] or not _passes(ctx, session, value, record):
                if node not in registered:
                    unregistered.append(node)
            elif node in registered:
                leases.renew(key)
            elif leases.register(key, value):
                repaired.append(node)
    return repaired, unregistered


def release_endpoints(ctx, record: Record) -> None:
    """Drop the endpoints the reconcile registered for a deployment that is no longer PROMOTED."""
    for node in record.get("instances") or {}:
        ctx.endpoint_leases.release(layout.endpoint_key(ctx.yoda, record["upstream"], node))


def _passes(ctx, session: requests.Session, address: str, record: Record) -> bool:
    """One try of the gate's check: the next reconcile tries again."""
    status, _ = gating.check_endpoint(session, address, record, ctx.options.check_interval, lambda: None, attempts=1)
    return status is not None
