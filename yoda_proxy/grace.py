"""Endpoints that vanished from etcd while their instances may still serve.

A registration lives on its sidekick's lease: a killed yoda-discover, or etcd stalled past the TTL,
takes the keys of healthy instances away. Dropping them would be an outage, so a vanished endpoint
stays in its backend, "in grace", while HAProxy's own health check reports it UP, for at most
`seconds` (longer than the deployer's reconcile, which registers it again). It goes at once when
HAProxy marks it DOWN (the reconciler asks), when the grace is over, or when its upstream leaves
etcd (an undeploy) or declares no health check (then only the registration vouches for it).
Registered again, under its node or its address, it is simply live again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from yoda_proxy.model import Endpoint, Upstream, Wiring

log = logging.getLogger("yoda_proxy.grace")
Key = tuple[str, str]  # (upstream, node)


@dataclass(frozen=True)
class Held:
    ip: str
    port: int
    until: float  # when the grace is over (clock time)


def names(keys: Iterable[Key], limit: int = 5) -> str:
    """ "up/node, ..." for a log line, at most `limit` of them."""
    ordered = sorted(keys)
    text = ", ".join(f"{upstream}/{node}" for upstream, node in ordered[:limit])
    return text + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


class Grace:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.held: dict[Key, Held] = {}
        self.total = 0  # endpoints that entered grace since the start
        self._served: dict[str, tuple[Endpoint, ...]] = {}  # upstream -> endpoints the last serve() gave

    def serve(self, wiring: Wiring) -> Wiring:
        """`wiring` (as read from etcd) with the endpoints in grace put back into their upstreams."""
        now = self.clock()
        held: dict[Key, Held] = {}
        upstreams = dict(wiring.upstreams)
        for name, up in wiring.upstreams.items():
            kept = self._vanished(up, now, held) if up.checked else ()
            if kept:
                upstreams[name] = replace(up, endpoints=tuple(sorted(up.endpoints + kept)))
        entered, left = held.keys() - self.held.keys(), self.held.keys() - held.keys()
        if entered:
            log.info("vanished from etcd, kept while HAProxy reports them UP: %s", names(entered))
        over = {key for key in left if self.held[key].until <= now}
        if over:
            log.warning("grace of %ss over, dropped though HAProxy reports them UP: %s", self.seconds, names(over))
        if left - over:
            log.info("out of grace (registered again, or upstream gone): %s", names(left - over))
        self.total += len(entered)
        self.held = held
        self._served = {name: up.endpoints for name, up in upstreams.items()}
        return replace(wiring, upstreams=upstreams)

    def _vanished(self, up: Upstream, now: float, held: dict[Key, Held]) -> tuple[Endpoint, ...]:
        """Endpoints served last time and missing from `up` now, while their grace lasts."""
        served = self._served.get(up.name, ())
        if served == up.endpoints:
            return ()  # nothing vanished (the usual case: quick)
        nodes = {node for node, _, _ in up.endpoints}
        addresses = {(ip, port) for _, ip, port in up.endpoints}
        kept = []
        for node, ip, port in served:
            if node in nodes or (ip, port) in addresses:
                continue  # live: registered (again)
            was = self.held.get((up.name, node))
            until = was.until if was else now + self.seconds
            if until > now:
                held[(up.name, node)] = Held(ip, port, until)
                kept.append((node, ip, port))
        return tuple(kept)

    def passes(self, up: Upstream) -> bool:
        """True when serve() would keep nothing of `up` in grace (none held, none vanishing now):
        the incremental path may then serve its endpoints as they are, and `record()` them."""
        if any(upstream == up.name for upstream, _ in self.held):
            return False
        return not (up.checked and self.seconds > 0 and self._vanished(up, self.clock(), {}))

    def record(self, up: Upstream) -> None:
        """`up`'s endpoints are served as they are (after `passes(up)`)."""
        self._served[up.name] = up.endpoints

    def expired(self) -> list[Key]:
        now = self.clock()
        return [key for key, entry in self.held.items() if entry.until <= now]

    def drop(self, keys: Iterable[Key]) -> None:
        """Forget these endpoints (HAProxy marks them DOWN): the next serve() leaves them out."""
        for upstream, node in keys:
            if self.held.pop((upstream, node), None):
                self._served[upstream] = tuple(e for e in self._served.get(upstream, ()) if e[0] != node)
