"""Stable server slots per backend, so endpoint changes are runtime updates.

Each backend is declared with `capacity` server slots (s1..sN). An endpoint keeps
its slot while it lives; a new one takes the lowest free slot. Capacity only grows
(to the next power of two), and growing is the one endpoint change that needs a reload.
"""

from __future__ import annotations

MIN_CAPACITY = 4


def capacity_for(count: int) -> int:
    size = MIN_CAPACITY
    while size < count:
        size *= 2
    return size


class SlotTable:
    def __init__(self) -> None:
        self.capacity: dict[str, int] = {}
        self.slots: dict[str, dict[str, int]] = {}  # backend -> node -> slot (1-based)

    def assign(self, backend: str, nodes: list[str]) -> bool:
        """Give every node a slot; True when the backend had to grow (reload needed)."""
        current = self.slots.setdefault(backend, {})
        if backend in self.capacity and len(current) == len(nodes) and all(n in current for n in nodes):
            return False  # nothing changed
        for gone in set(current) - set(nodes):
            del current[gone]
        capacity = self.capacity.get(backend, 0)
        grown = backend not in self.capacity or len(nodes) > capacity
        if grown:
            capacity = capacity_for(len(nodes))
            self.capacity[backend] = capacity
        used = set(current.values())
        free = (slot for slot in range(1, capacity + 1) if slot not in used)
        for node in nodes:
            if node not in current:
                current[node] = next(free)
        return grown

    def server(self, backend: str, node: str) -> str | None:
        """The HAProxy server name ("s3") of `node`'s slot, None when it has none."""
        slot = self.slots.get(backend, {}).get(node)
        return None if slot is None else f"s{slot}"

    def forget(self, keep: set[str]) -> None:
        """Drop backends that are no longer declared."""
        for backend in set(self.slots) - keep:
            self.slots.pop(backend, None)
            self.capacity.pop(backend, None)
