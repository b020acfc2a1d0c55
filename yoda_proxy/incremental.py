"""The hot path: a change that only rewrites runtime state of what is already declared.

A blue-green switch (a location's `upstream`), a canary share, a host's X-Frame-Options,
maintenance or pause, an upstream's endpoints within its slots, a new `revision`: `patch()`
rebuilds only the entities that changed, with the parser's own functions, and returns exactly
the wiring `parse()` would give, the plan `build()` would give and the runtime commands
between the two, touching only those entities. At 1,000 hosts that is well under a
millisecond, where parsing and planning the whole tree costs tens. Anything it cannot prove
the same (an entity that is new, gone, invalid or noted, an alias or host name, a mode or
health check, a backend outgrowing its slots, an endpoint going into grace, another flat key)
returns None: the full path applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from totem.contracts import yoda
from yoda_proxy.grace import Grace
from yoda_proxy.keytree import HOSTS, UPSTREAMS, KeyTree
from yoda_proxy.model import Host, Invalid, Upstream, Wiring
from yoda_proxy.parse import bad_upstreams, location_errors, parse_host, parse_upstream
from yoda_proxy.plan import MAPS, Plan, backend_name, host_flags, host_routes, runtime_commands
from yoda_proxy.slots import SlotTable


@dataclass
class Patch:
    wiring: Wiring  # what parse() would return
    plan: Plan  # what build() and carry_over() would return
    commands: list[str]


def patch(
    keys: KeyTree,
    wiring: Wiring,
    applied: Plan,
    changed: set[str],
    flat: set[str],
    slots: SlotTable,
    grace: Grace,
    gen: Path,
) -> Patch | None:
    """The change to entities `changed` (and flat keys `flat`) since `wiring`, applied as `applied`."""
    if flat - {yoda.REVISION}:
        return None
    hosts: dict[str, Host] = {}
    upstreams: dict[str, Upstream] = {}
    for entity in sorted(changed):
        if entity.startswith(HOSTS):
            host = _host(entity[len(HOSTS) :], keys, wiring)
            if host is None:
                return None
            hosts[entity[len(HOSTS) :]] = host
        elif entity.startswith(UPSTREAMS):
            up = _upstream(entity[len(UPSTREAMS) :], keys, wiring, slots, grace)
            if up is None:
                return None
            upstreams[up.name] = up
        else:
            return None
    new = replace(
        wiring,
        revision=keys.get(yoda.REVISION),
        raw_hosts={**wiring.raw_hosts, **hosts},
        hosts={**wiring.hosts, **{h.name: h for h in hosts.values()}},
        upstreams={**wiring.upstreams, **upstreams},
    )
    bad = bad_upstreams(new)
    modes: dict[str, str] = {}
    for key, host in hosts.items():
        refs = _upstreams_of(host) | _upstreams_of(wiring.raw_hosts[key])
        if not refs <= new.upstreams.keys() or location_errors(host, HOSTS + key, new, bad):
            return None  # a reference to an undeclared upstream changes the backends; an error is kept
        modes.update((ref, new.upstreams[ref].mode) for ref in refs)
    # Proven the same as the full path from here on: change the slots, grace and plan.
    maps = {m: dict(entries) for m, entries in applied.maps.items()}
    plan = replace(applied, maps=maps, servers=dict(applied.servers))
    touched: dict[str, set[str]] = {m: set() for m in MAPS}
    for key, host in hosts.items():
        before, after = host_routes(wiring.raw_hosts[key], modes), host_routes(host, modes)
        routes = plan.maps["routes"]
        for route in before.keys() - after.keys():
            del routes[route]
        routes.update(after)
        touched["routes"] |= before.keys() | after.keys()
        flags = host_flags(host)  # maintenance and pause: the host's name is its key (checked by _host)
        if flags is None:
            plan.maps["flags"].pop(host.name, None)
        else:
            plan.maps["flags"][host.name] = flags
        touched["flags"].add(host.name)
    for up in upstreams.values():
        name = backend_name(up.name)
        grown = slots.assign(name, [node for node, _, _ in up.endpoints])
        assert not grown, "checked by _upstream"
        grace.record(up)
        plan.servers[name] = {slots.slots[name][node]: (ip, port) for node, ip, port in up.endpoints}
    backends = [backend_name(name) for name in upstreams]
    return Patch(new, plan, runtime_commands(applied, plan, gen, backends, touched))


def _clean(ident: str, wiring: Wiring) -> bool:
    """Built without errors or ignored keys, and named by no cross-check error."""
    return ident in wiring.clean and not any(e.startswith((ident + "/", ident + ":")) for e in wiring.errors)


def _host(key: str, keys: KeyTree, wiring: Wiring) -> Host | None:
    old, tree = wiring.raw_hosts.get(key), keys.sections[HOSTS].get(key)
    if old is None or tree is None or wiring.hosts.get(old.name) is not old or not _clean(HOSTS + key, wiring):
        return None
    notes: list[str] = []
    try:  # the previous version as parse() passes it
        host = parse_host(key, tree, notes.append, lambda k, _: notes.append(k), wiring.hosts.get(key.lower()))
    except Invalid:
        return None
    if notes or host.name != old.name or host.alias_ids != old.alias_ids:
        return None  # the host and alias maps, and alias ownership, stay as they are
    return host


def _upstream(key: str, keys: KeyTree, wiring: Wiring, slots: SlotTable, grace: Grace) -> Upstream | None:
    old, tree = wiring.upstreams.get(key), keys.sections[UPSTREAMS].get(key)
    if old is None or tree is None or not _clean(UPSTREAMS + key, wiring):
        return None
    notes: list[str] = []
    try:
        up = parse_upstream(key, tree, notes.append, lambda k, _: notes.append(k))
    except Invalid:
        return None
    name = backend_name(key)
    if notes or (up.mode, up.health, up.checked) != (old.mode, old.health, old.checked):
        return None  # the backend's declaration changes: a reload
    if name not in slots.capacity or len(up.endpoints) > slots.capacity[name] or not grace.passes(up):
        return None
    return up


def _upstreams_of(host: Host) -> set[str]:
    return {u for loc in host.locations for u in (loc.upstream, loc.canary) if u}
