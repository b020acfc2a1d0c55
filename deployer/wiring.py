"""This app's proxy wiring under YODA_BASE, the wiring revision, and the proxies' acknowledgements.

Only keys this app owns are written or removed: locations `<app>_<loc>` and aliases `<app>_<n>`
(app names hold no "_"), upstreams `<app>-<version>-<port>`. Other apps' keys on a shared host
are never touched.
"""
from __future__ import annotations

import time

from deployer.gating import GateFailed, poll
from deployer.proxy_spec import owner_of
from deployer.records import Record


def register_upstream(store, yoda: str, record: Record) -> None:
    """Upstream settings; endpoints are left alone (yoda-discover owns them)."""
    base = f"{yoda}upstreams/{record['upstream']}/"
    for key, value in record["spec"]["upstream_config"].items():
        if store.get(base + key) != value:
            store.put(base + key, value)


def remove_upstream(store, yoda: str, upstream: str) -> None:
    store.delete_prefix(f"{yoda}upstreams/{upstream}/")


def _app_keys(store, yoda: str, app: str) -> dict[str, str]:
    """Every location and alias key under any host that belongs to `app` (exact owner match)."""
    owned = {}
    for key, value in store.list(f"{yoda}hosts/").items():
        parts = key[len(yoda):].split("/")  # hosts/<host>/(locations|aliases)/<id>/...
        if len(parts) >= 4 and parts[2] in ("locations", "aliases") and owner_of(parts[3]) == app:
            owned[key] = value
    return owned


def desired(yoda: str, record: Record, canary: str | None = None, base_upstream: str | None = None) -> dict[str, str]:
    """The keys that route this app's hosts to the record's upstream (or, for a/b, split it)."""
    keys: dict[str, str] = {}
    app = record["app"]
    for host, entry in record["spec"]["wiring"].items():
        root = f"{yoda}hosts/{host}/"
        for index, alias in enumerate(entry["aliases"]):
            keys[f"{root}aliases/{app}_{index}"] = alias
        for loc_id, loc in entry["locations"].items():
            loc_root = f"{root}locations/{loc_id}/"
            keys[loc_root + "path"] = loc["path"]
            keys[loc_root + "upstream"] = base_upstream or record["upstream"]
            keys[loc_root + "force-ssl"] = "true" if loc["force-ssl"] else "false"
            for acl in loc["allowed"]:
                keys[f"{loc_root}acls/allowed/{acl}"] = acl
            for acl in loc["denied"]:
                keys[f"{loc_root}acls/denied/{acl}"] = acl
            if canary:
                keys[loc_root + "canary/upstream"] = canary
                keys[loc_root + "canary/weight"] = str(record["spec"]["ab_weight"])
    return keys


def apply(store, yoda: str, app: str, keys: dict[str, str]) -> None:
    """Write `keys`, then remove this app's other location/alias keys (never another app's)."""
    for key, value in keys.items():
        if store.get(key) != value:
            store.put(key, value)
    for key in _app_keys(store, yoda, app):
        if key not in keys:
            store.delete(key)


def unwire(store, yoda: str, app: str) -> None:
    for key in _app_keys(store, yoda, app):
        store.delete(key)


def routed_upstreams(store, yoda: str, app: str) -> set[str]:
    """Upstreams this app's locations point at right now (main and canary)."""
    return {value for key, value in _app_keys(store, yoda, app).items()
            if key.endswith("/upstream")}


def bump_revision(store, yoda: str, deployment_id: str) -> str:
    """A new opaque revision: "<counter>.<deployment id>"; proxies acknowledge it once applied."""
    def next_value(old: str | None) -> str:
        counter = revision_counter(old or "0")
        counter = counter if counter >= 0 else int(time.time() * 1000)
        return f"{counter + 1}.{deployment_id}"
    return store.update(f"{yoda}revision", next_value)


def live_proxies(store, yoda: str) -> dict[str, str | None]:
    """{node: applied revision} for every proxy node announcing itself (leased info key)."""
    nodes: dict[str, dict[str, str]] = {}
    prefix = f"{yoda}proxy-nodes/"
    for key, value in store.list(prefix).items():
        node, _, name = key[len(prefix):].partition("/")
        nodes.setdefault(node, {})[name] = value
    return {node: keys.get("applied") for node, keys in nodes.items() if "info" in keys}


def revision_counter(revision: str | None) -> int:
    """The counter of a "<counter>.<deployment id>" revision (-1 when unreadable)."""
    head = (revision or "").split(".", 1)[0]
    return int(head) if head.isdigit() else -1


def covers(applied: str | None, revision: str) -> bool:
    """A proxy that applied a later revision has applied this one too (revisions only grow)."""
    return applied == revision or revision_counter(applied) >= revision_counter(revision) >= 0


def wait_applied(store, yoda: str, revision: str, timeout: float, keep_going) -> list[str]:
    """Wait until every live proxy node has applied `revision` (or a later one); returns those nodes."""
    def done():
        proxies = live_proxies(store, yoda)
        return sorted(proxies) or ["-"] if all(covers(v, revision) for v in proxies.values()) else None

    nodes = poll(done, timeout, 0.1, keep_going)
    if not nodes:
        lagging = sorted(n for n, v in live_proxies(store, yoda).items() if not covers(v, revision))
        raise GateFailed(f"proxies {', '.join(lagging)} did not apply wiring revision {revision} in {timeout:.0f}s")
    return [n for n in nodes if n != "-"]
