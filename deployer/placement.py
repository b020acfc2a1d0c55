"""Which Docker host each new instance goes to (the `docker` scheduler; a swarm places its own)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Load:
    """What runs on one host: this app's instances, and Totem's instances of any app."""

    app: int = 0
    total: int = 0


def spread(loads: dict[str, Load], count: int, rotate: int = 0) -> list[str]:
    """A host for each of `count` new instances: each time the one with the fewest instances of the
    app, then the fewest Totem instances, each pick counted on its host, so N instances land on N
    hosts while there are N hosts. Ties go by the hosts' order rotated by `rotate` (a deployment's
    sequence number), so equal hosts take turns across deployments."""
    hosts = list(loads)
    if not hosts:
        return []
    rank = {host: (index - rotate) % len(hosts) for index, host in enumerate(hosts)}
    counts = {host: Load(load.app, load.total) for host, load in loads.items()}
    picks = []
    for _ in range(count):
        host = min(hosts, key=lambda h: (counts[h].app, counts[h].total, rank[h]))
        counts[host].app += 1
        counts[host].total += 1
        picks.append(host)
    return picks
