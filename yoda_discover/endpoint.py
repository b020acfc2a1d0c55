"""A container's endpoint registration: its labels, its health check, its key and value."""

from __future__ import annotations

import functools

from totem.contracts import yoda
from totem.store import Store
from yoda_discover import health
from yoda_discover.labels import instance_from_labels
from yoda_discover.registrar import CheckPolicy, Registration


def endpoint_registration(
    store: Store, base: str, container_id: str, labels: dict[str, str], host_ip: str, policy: CheckPolicy
) -> Registration:
    """A (not yet started) Registration of a container's endpoint; LabelError if its labels are unusable."""
    instance = instance_from_labels(container_id, labels)
    check = functools.partial(health.check, host_ip, instance.port, instance.health, policy.timeout)
    key = yoda.endpoint_key(base, instance.upstream, instance.node)
    return Registration(store, key, yoda.endpoint_value(host_ip, instance.port), check, policy)
