"""What HAProxy must look like for a wiring, split in two parts:

- `structure`: what is declared in haproxy.cfg (backends and their slot counts,
  health checks, TCP listeners, ACL lists, certificates, pages). Changing it needs a reload.
- runtime state: map contents (host, route, listener and host flag maps) and server slot
  addresses. Changing those is a runtime API update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from totem.contracts.yoda import backend as backend_name  # u_<upstream>: Prometheus' metrics name it too
from yoda_proxy.model import Health, Host, Listener, Wiring
from yoda_proxy.slots import SlotTable

UNAVAILABLE = "yoda_unavailable"
MAPS = ("hosts", "routes", "listeners", "flags")


@dataclass(frozen=True)
class BackendSpec:
    name: str
    upstream: str
    mode: str
    health: Health
    capacity: int


@dataclass(frozen=True)
class ListenerSpec:
    name: str
    address: str | None
    port: int
    allowed: tuple[str, ...] = ()  # known ACLs only; `closed` when every allowed one is unknown
    denied: tuple[str, ...] = ()
    closed: bool = False


@dataclass
class Plan:
    backends: tuple[BackendSpec, ...] = ()
    listeners: tuple[ListenerSpec, ...] = ()
    acls: tuple[tuple[str, tuple[str, ...]], ...] = ()
    certs: dict[str, str] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    maps: dict[str, dict[str, str]] = field(default_factory=lambda: {m: {} for m in MAPS})
    servers: dict[str, dict[int, tuple[str, int]]] = field(default_factory=dict)

    @property
    def structure(self) -> tuple:
        certs = tuple(sorted((n, hashlib.sha256(p.encode()).hexdigest()) for n, p in self.certs.items()))
        return (self.backends, self.listeners, self.acls, certs, tuple(sorted(self.pages.items())))


def fits(applied: Plan, new: Plan) -> bool:
    """True when `new` needs nothing undeclared in `applied`: only backends went away."""
    declared = {b.name: b for b in applied.backends}
    return new.structure[1:] == applied.structure[1:] and all(declared.get(b.name) == b for b in new.backends)


def carry_over(applied: Plan, new: Plan) -> None:
    """Keep backends that went away declared (no servers) until the next reload."""
    kept = {b.name for b in new.backends}
    gone = [b for b in applied.backends if b.name not in kept]
    new.backends = tuple(sorted(new.backends + tuple(gone), key=lambda b: b.name))
    for backend in gone:
        new.servers[backend.name] = {}


def runtime_commands(
    old: Plan,
    new: Plan,
    gen: Path,
    backends: Collection[str] | None = None,
    keys: dict[str, set[str]] | None = None,
) -> list[str]:
    """Runtime API commands that turn `old` into `new` (same structure). With `backends` and `keys`
    (map name -> keys), only those servers and map entries are compared: the incremental path
    knows what it touched, and comparing every map at 1,000 hosts costs more than the change."""
    adds, removals = [], []
    for backend in new.servers if backends is None else sorted(backends):
        slots, before = new.servers.get(backend, {}), old.servers.get(backend, {})
        if before == slots:
            continue
        for slot, (ip, port) in sorted(slots.items()):
            if before.get(slot) != (ip, port):
                adds += [
                    f"set server {backend}/s{slot} addr {ip} port {port}",
                    f"set server {backend}/s{slot} state ready",
                ]
        removals += [f"set server {backend}/s{slot} state maint" for slot in sorted(before) if slot not in slots]
    updates, deletes = [], []
    for name in MAPS:
        path, was, now = gen / f"{name}.map", old.maps[name], new.maps[name]
        if keys is None and was == now:
            continue
        touched = sorted(now.keys() | was.keys()) if keys is None else sorted(keys.get(name, ()))
        updates += [
            f"{'set' if key in was else 'add'} map {path} {key} {now[key]}"
            for key in touched
            if key in now and was.get(key) != now[key]
        ]
        deletes += [f"del map {path} {key}" for key in touched if key in was and key not in now]
    return adds + updates + deletes + removals


def route_key(host: str, path: str) -> str:
    """Map key for a location: the path always ends with "/" so /api never matches /apix."""
    return host + path.rstrip("/") + "/"


def build(wiring: Wiring, slots: SlotTable) -> tuple[Plan, bool]:
    """The plan for `wiring`; True when a backend outgrew its slots."""
    plan = Plan(certs=dict(wiring.certs), pages=dict(wiring.pages))
    modes = {u.name: u.mode for u in wiring.upstreams.values()}
    wanted = {u.name: u for u in wiring.upstreams.values()}
    for host in wiring.hosts.values():
        for loc in host.locations:
            for upstream in filter(None, (loc.upstream, loc.canary)):
                modes.setdefault(upstream, "http")
    grown = False
    backends = []
    for upstream, mode in sorted(modes.items()):
        up = wanted.get(upstream)
        name = backend_name(upstream)
        endpoints = up.endpoints if up else ()
        grown |= slots.assign(name, [node for node, _, _ in endpoints])
        backends.append(BackendSpec(name, upstream, mode, up.health if up else Health(), slots.capacity[name]))
        plan.servers[name] = {slots.slots[name][node]: (ip, port) for node, ip, port in endpoints}
    slots.forget({b.name for b in backends})
    plan.backends = tuple(backends)
    plan.acls = tuple(sorted(wiring.acls.items()))
    plan.listeners = tuple(listener_spec(s, wiring.acls) for _, s in sorted(wiring.listeners.items()))
    fill_maps(plan, wiring, modes)
    return plan, grown


def listener_spec(listener: Listener, acls: dict[str, tuple[str, ...]]) -> ListenerSpec:
    """An unknown ACL is never rendered (HAProxy would refuse the file); allowed ones all unknown: closed."""
    allowed = tuple(a for a in listener.allowed if a in acls)
    denied = tuple(a for a in listener.denied if a in acls)
    closed = bool(listener.allowed) and not allowed
    return ListenerSpec(listener.name, listener.address, listener.port, allowed, denied, closed)


def fill_maps(plan: Plan, wiring: Wiring, modes: dict[str, str]) -> None:
    hosts, routes, listeners, flags = (plan.maps[m] for m in MAPS)
    for host in sorted(wiring.hosts.values(), key=lambda h: h.name):
        hosts[host.name] = host.name
        if (value := host_flags(host)) is not None:
            flags[host.name] = value
    for host in sorted(wiring.hosts.values(), key=lambda h: h.name):
        for alias in host.aliases:
            hosts.setdefault(alias, host.name)
        routes.update(host_routes(host, modes))  # keys start with the host's name: never another host's
    for listener in wiring.listeners.values():
        if modes.get(listener.upstream) == "tcp":
            listeners[listener.name] = backend_name(listener.upstream)


def host_routes(host: Host, modes: dict[str, str]) -> dict[str, str]:
    """The routes map entries of one host (the first location of a path wins)."""
    routes: dict[str, str] = {}
    for loc in host.locations:
        backend, canary = (
            backend_name(u) if modes.get(u) == "http" else UNAVAILABLE
            for u in (loc.upstream, loc.canary or loc.upstream)
        )
        value = "|".join(
            (
                backend,
                "1" if loc.force_ssl else "0",
                "," + ",".join(loc.allowed) + ",",
                "," + ",".join(loc.denied) + ",",
                canary,
                str(loc.canary_percent if loc.canary else 0),
                host.frame_options,
            )
        )
        routes.setdefault(route_key(host.name, loc.path), value)
    return routes


def host_flags(host: Host) -> str | None:
    """The flags map entry of a host in maintenance or paused: "<Retry-After s>|<longest hold ms>"
    (0: that one is off); None for the others, which have no entry, so their requests pay one lookup."""
    if host.maintenance is None and not host.pause_ms:
        return None
    return f"{host.maintenance or 0}|{host.pause_ms}"
