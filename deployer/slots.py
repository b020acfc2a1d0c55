"""A cluster-wide limit on concurrent instance starts: N leased slot keys in etcd."""

from __future__ import annotations

from totem.store import Store
from totem.waiting import wait


class StartSlots:
    def __init__(self, store: Store, root: str, limit: int):
        self.store, self.prefix, self.limit = store, f"{root}start-slots/", max(1, limit)

    def acquire(self, owner: str, keep_going, ttl: int = 15):
        """Take a free slot, waiting for one as long as `keep_going` does not raise; returns a handle
        for `release`."""

        def take():
            for index in range(self.limit):
                key = f"{self.prefix}{index}"
                if self.store.get(key) == owner:
                    return key, None  # already ours (an earlier attempt by this deployment)
                lease = self.store.lease(ttl).keep_alive()
                if self.store.create(key, owner, lease):
                    return key, lease
                lease.revoke()
            keep_going()
            return None

        return wait(take, None, 0.2, what="a free start slot")

    def release(self, handle, owner: str) -> None:
        key, lease = handle
        self.store.delete(key, prev_value=owner)
        if lease is not None:
            lease.revoke()
