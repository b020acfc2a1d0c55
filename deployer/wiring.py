"""This app's proxy wiring under YODA_BASE, the wiring revision, and the proxies' acknowledgements.

Only keys this app owns are written or removed: locations `<app>_<loc>` and aliases `<app>_<n>`
(app names hold no "_"), upstreams `<app>-<version>-<port>`. Other apps' keys on a shared host
are never touched. A host's own setting `hosts/<host>/x-frame-options` is written (always, the
default DENY too) by every app wiring the host, so on a shared host the last one wired sets it;
it is removed once no app has a location or alias left on the host, and so are the host's
maintenance and pause switches (deployer/traffic.py), which `apply` never touches otherwise.
"""

from __future__ import annotations

import json
import time

from deployer.gating import GateFailed
from deployer.polling import poll
from deployer.proxy_spec import X_FRAME_DEFAULT, owner_of
from deployer.records import Record
from totem.contracts import yoda as layout  # `yoda` here is the base prefix ("/yoda/")
from totem.waiting import WaitTimeout


def register_upstream(store, yoda: str, record: Record) -> None:
    """Upstream settings; endpoints are left alone (yoda-discover owns them)."""
    for field, value in record["spec"]["upstream_config"].items():
        key = layout.upstream_key(yoda, record["upstream"], field)
        if store.get(key) != value:
            store.put(key, value)


def remove_upstream(store, yoda: str, upstream: str) -> None:
    store.delete_prefix(layout.upstream_prefix(yoda, upstream))


def _app_keys(store, yoda: str, app: str) -> dict[str, str]:
    """Every location and alias key under any host that belongs to `app` (exact owner match)."""
    owned = {}
    for key, value in store.list(layout.hosts_prefix(yoda)).items():
        parsed = layout.parse_host_key(yoda, key)
        if parsed and owner_of(parsed.ident) == app:
            owned[key] = value
    return owned


def frame_key(yoda: str, host: str) -> str:
    return layout.host_prefix(yoda, host) + layout.X_FRAME_OPTIONS


def desired(
    yoda: str,
    record: Record,
    canary: str | None = None,
    base_upstream: str | None = None,
    weight: int | None = None,
    preview_prefix: str = "",
) -> dict[str, str]:
    """The keys that route this app's hosts to the record's upstream, or split them: `base_upstream`
    keeps the rest while `canary` gets `weight` % (a/b: the spec's ab-weight). `preview_prefix`: the
    same routes on `<prefix><host>` without aliases (a preview host)."""
    keys: dict[str, str] = {}
    app = record["app"]
    for wired, entry in record["spec"]["wiring"].items():
        host = preview_prefix + wired
        if preview_prefix:
            entry = {**entry, "aliases": []}
        if entry["aliases"] or entry["locations"]:  # a host this app routes nothing on is not its to set
            keys[frame_key(yoda, host)] = entry.get("x-frame-options", X_FRAME_DEFAULT)  # written even when DENY
        for index, alias in enumerate(entry["aliases"]):
            keys[layout.alias_key(yoda, host, f"{app}_{index}")] = alias
        for loc_id, loc in entry["locations"].items():
            fields = {
                layout.PATH: loc["path"],
                layout.UPSTREAM: base_upstream or record["upstream"],
                layout.FORCE_SSL: "true" if loc["force-ssl"] else "false",
            }
            keys.update((layout.location_key(yoda, host, loc_id, name), value) for name, value in fields.items())
            for kind, acls in ((layout.ALLOWED, loc["allowed"]), (layout.DENIED, loc["denied"])):
                keys.update((layout.location_acl_key(yoda, host, loc_id, kind, acl), acl) for acl in acls)
            if canary:
                keys[layout.location_key(yoda, host, loc_id, layout.CANARY_UPSTREAM)] = canary
                share = record["spec"]["ab_weight"] if weight is None else weight
                keys[layout.location_key(yoda, host, loc_id, layout.CANARY_WEIGHT)] = str(share)
    return keys


def preview_hosts(record: Record) -> list[str]:
    preview = record["spec"].get("preview")
    return sorted(preview["prefix"] + host for host in record["spec"]["wiring"]) if preview else []


def apply(store, yoda: str, app: str, keys: dict[str, str]) -> None:
    """Write `keys`, then remove this app's other location/alias keys (never another app's)."""
    for key, value in keys.items():
        if store.get(key) != value:
            store.put(key, value)
    gone = [key for key in _app_keys(store, yoda, app) if key not in keys]
    for key in gone:
        store.delete(key)
    _drop_unrouted_settings(store, yoda, gone)


def unwire(store, yoda: str, app: str) -> None:
    gone = list(_app_keys(store, yoda, app))
    for key in gone:
        store.delete(key)
    _drop_unrouted_settings(store, yoda, gone)


def _drop_unrouted_settings(store, yoda: str, removed: list[str]) -> None:
    """A host's x-frame-options, maintenance and pause outlive no app: removed once the host has no
    location or alias left (a redeploy on the same hosts keeps them)."""
    hosts = {parsed.host for parsed in (layout.parse_host_key(yoda, key) for key in removed) if parsed}
    if not hosts:
        return
    left = (layout.parse_host_key(yoda, key) for key in store.list(layout.hosts_prefix(yoda)))
    routed = {parsed.host for parsed in left if parsed}
    for host in sorted(hosts - routed):
        for field in (layout.X_FRAME_OPTIONS, *layout.HOST_FLAGS):  # maintenance and pause (traffic.py) too
            store.delete(layout.host_setting_key(yoda, host, field))


def routed_upstreams(store, yoda: str, app: str) -> set[str]:
    """Upstreams this app's locations point at right now (main and canary)."""
    return {
        value
        for key, value in _app_keys(store, yoda, app).items()
        if _location_field(yoda, key) in (layout.UPSTREAM, layout.CANARY_UPSTREAM)
    }


def _location_field(yoda: str, key: str) -> str | None:
    parsed = layout.parse_host_key(yoda, key)
    return parsed.field if parsed and parsed.kind == layout.LOCATIONS else None


def bump_revision(store, yoda: str, deployment_id: str) -> str:
    """A new opaque revision: "<counter>.<deployment id>"; proxies acknowledge it once applied."""

    def next_value(old: str | None) -> tuple[str, str]:
        counter = revision_counter(old or "0")
        counter = counter if counter >= 0 else int(time.time() * 1000)
        revision = f"{counter + 1}.{deployment_id}"
        return revision, revision

    return store.update(layout.revision_key(yoda), next_value)


def live_proxies(store, yoda: str) -> dict[str, str | None]:
    """{node: applied revision} for every proxy node announcing itself (leased info key)."""
    nodes: dict[str, dict[str, str]] = {}
    for key, value in store.list(layout.proxy_nodes_prefix(yoda)).items():
        parsed = layout.parse_proxy_node_key(yoda, key)
        if parsed:
            node, field = parsed
            nodes.setdefault(node, {})[field] = value
    return {node: fields.get(layout.APPLIED) for node, fields in nodes.items() if layout.INFO in fields}


def revision_counter(revision: str | None) -> int:
    """The counter of a "<counter>.<deployment id>" revision (-1 when unreadable)."""
    head = (revision or "").split(".", 1)[0]
    return int(head) if head.isdigit() else -1


def covers(applied: str | None, revision: str) -> bool:
    """A proxy that applied a later revision has applied this one too (revisions only grow)."""
    return applied == revision or revision_counter(applied) >= revision_counter(revision) >= 0


def skipped_for(store, yoda: str, app: str) -> list[str]:
    """`skipped` for `app`'s keys: its locations and aliases, or the hosts they are on."""
    return skipped(store, yoda, list(_app_keys(store, yoda, app)))


def skipped(store, yoda: str, mine: list[str]) -> list[str]:
    """`<node>: <key>: <why>` for each entry a live proxy left out (proxy-nodes/<node>/skipped) that is,
    or holds, one of the keys `mine`."""
    found = []
    for key, value in store.list(layout.proxy_nodes_prefix(yoda)).items():
        parsed = layout.parse_proxy_node_key(yoda, key)
        if not parsed or parsed[1] != layout.SKIPPED:
            continue
        try:
            entries = json.loads(value)
        except ValueError:
            continue
        for ref, why in sorted(entries.items()) if isinstance(entries, dict) else ():
            root = layout.prefix(yoda) + ref
            if any(k == root or k.startswith(root + "/") for k in mine):
                found.append(f"{parsed[0]}: {ref}: {why}")
    return found


def wait_applied(store, yoda: str, revision: str, timeout: float, keep_going, app: str | None = None) -> list[str]:
    """Wait until every live proxy node has applied `revision` (or a later one); returns those nodes.
    With `app`, a proxy that applied it but skipped one of the app's entries fails the wait."""

    def done():
        keep_going()
        proxies = live_proxies(store, yoda)
        return sorted(proxies) or ["-"] if all(covers(v, revision) for v in proxies.values()) else None

    try:
        nodes = poll(done, timeout, what=f"every live proxy applying wiring revision {revision}", longest=0.1)
    except WaitTimeout:
        lagging = sorted(n for n, v in live_proxies(store, yoda).items() if not covers(v, revision))
        raise GateFailed(
            f"proxies {', '.join(lagging)} did not apply wiring revision {revision} in {timeout:.0f}s"
        ) from None
    bad = skipped_for(store, yoda, app) if app else []
    if bad:
        raise GateFailed(f"proxies applied wiring revision {revision} but skipped {app}'s: {'; '.join(bad[:5])}")
    return [n for n in nodes if n != "-"]
