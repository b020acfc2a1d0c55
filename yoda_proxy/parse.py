"""Turn the flat etcd keys under YODA_BASE into a validated `Wiring`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from totem.contracts import yoda
from yoda_proxy.keytree import ACLS, CERTS, HOSTS, LISTENERS, UPSTREAMS, KeyTree, Tree
from yoda_proxy.model import (
    DEFAULT_ACL,
    MODES,
    PATH,
    PUBLIC_CIDRS,
    TRUE,
    Health,
    Host,
    Invalid,
    Listener,
    Location,
    Upstream,
    Wiring,
    acl_list,
    address,
    cidrs,
    duration_ms,
    hostname,
    name,
)

T = TypeVar("T")
IGNORED = (yoda.PROXY_NODES + "/",)  # written by the proxies themselves, not wiring


def group(keys: dict[str, str], prefix: str) -> Tree:
    """{"<id>": {"rest/of/key": value}} for keys under `prefix` ("locations/")."""
    tree: Tree = {}
    for key, value in keys.items():
        if key.startswith(prefix):
            head, _, rest = key[len(prefix) :].partition("/")
            if head:
                tree.setdefault(head, {})[rest] = value
    return tree


def sub(tree: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in tree.items() if k.startswith(prefix)}


def location_ref(host: str, location: str) -> str:
    """How errors name a location: by its key, "hosts/<host>/locations/<loc>"."""
    return f"{HOSTS}{host}/{yoda.LOCATIONS}/{location}"


def parse_location(loc_id: str, keys: dict[str, str]) -> Location:
    path = keys.get(yoda.PATH, "").strip()
    upstream = keys.get(yoda.UPSTREAM, "").strip()
    if not path or not upstream:
        raise Invalid("incomplete: needs both path and upstream")
    if not PATH.match(path):
        raise Invalid(f"path {path!r} must start with / and hold no spaces, ';' or '#'")
    allowed = acl_list(sub(keys, yoda.ALLOWED + "/"), "allowed acl")
    canary, percent = parse_canary(keys)
    return Location(
        name=name(loc_id, "location"),
        path=path,
        upstream=name(upstream, "upstream"),
        force_ssl=keys.get(yoda.FORCE_SSL, "").strip().lower() in TRUE,
        allowed=allowed or (DEFAULT_ACL,),
        denied=acl_list(sub(keys, yoda.DENIED + "/"), "denied acl"),
        canary=canary,
        canary_percent=percent,
    )


def parse_canary(keys: dict[str, str]) -> tuple[str | None, int]:
    upstream = keys.get(yoda.CANARY_UPSTREAM, "").strip()
    if not upstream:
        return None, 0
    percent = keys.get(yoda.CANARY_WEIGHT, "").strip()
    if not percent.isdigit() or not 0 <= int(percent) <= 100:
        raise Invalid(f"{yoda.CANARY_WEIGHT} {percent!r} must be a percentage from 0 to 100")
    return name(upstream, "canary upstream"), int(percent)


def parse_host(host_id: str, keys: dict[str, str], report: Callable[[str], None], previous: Host | None) -> Host:
    host = hostname(host_id)
    aliases = tuple(sorted({hostname(v) for v in sub(keys, yoda.ALIASES + "/").values() if v.strip()} - {host}))
    old = {loc.name: loc for loc in previous.locations} if previous else {}
    locations = []
    for loc_id, loc_keys in sorted(group(keys, yoda.LOCATIONS + "/").items()):
        try:
            locations.append(parse_location(loc_id, loc_keys))
        except Invalid as exc:
            report(f"{location_ref(host_id, loc_id)}: {exc}")
            if loc_id in old:
                locations.append(old[loc_id])
    return Host(host, aliases, tuple(locations))


def parse_upstream(up_id: str, keys: dict[str, str], report: Callable[[str], None]) -> Upstream:
    mode = keys.get(yoda.MODE, "http").strip().lower() or "http"
    if mode not in MODES:
        raise Invalid(f"mode {mode!r} must be one of {', '.join(MODES)}")
    interval = duration_ms(keys[yoda.HEALTH_INTERVAL], yoda.HEALTH_INTERVAL) if keys.get(yoda.HEALTH_INTERVAL) else 2000
    timeout = duration_ms(keys[yoda.HEALTH_TIMEOUT], yoda.HEALTH_TIMEOUT) if keys.get(yoda.HEALTH_TIMEOUT) else interval
    uri = keys.get(yoda.HEALTH_URI, "").strip() or None
    if uri and not PATH.match(uri):
        raise Invalid(f"{yoda.HEALTH_URI} {uri!r} must be a path")
    endpoints = []
    for node, value in sorted(sub(keys, yoda.ENDPOINTS + "/").items()):
        try:
            ip, port = address(value, "endpoint")
            endpoints.append((node, ip, port))  # the node name is only a key: any name will do
        except Invalid as exc:
            report(f"{UPSTREAMS}{up_id}/{yoda.ENDPOINTS}/{node}: {exc}")
    checked = any(keys.get(k, "").strip() for k in (yoda.HEALTH_URI, yoda.HEALTH_INTERVAL, yoda.HEALTH_TIMEOUT))
    return Upstream(name(up_id, "upstream"), mode, Health(uri, timeout, interval), tuple(endpoints), checked)


def parse_listener(listener_id: str, keys: dict[str, str]) -> Listener:
    if not keys.get(yoda.BIND) or not keys.get(yoda.UPSTREAM):
        raise Invalid("incomplete: needs both bind and upstream")
    ip, port = address(keys[yoda.BIND], "bind", allow_empty_host=True)
    return Listener(name(listener_id, "listener"), ip, port, name(keys[yoda.UPSTREAM].strip(), "upstream"))


def parse_acl(acl_id: str, keys: dict[str, str]) -> tuple[str, ...]:
    name(acl_id, "acl")
    return cidrs(keys.get(yoda.CIDR_SRC, ""), yoda.CIDR_SRC)


def parse_cert(cert_id: str, keys: dict[str, str]) -> str:
    name(cert_id, "cert")
    return check_pem(keys[""])


def check_pem(pem: str) -> str:
    data = pem.encode()
    try:
        x509.load_pem_x509_certificate(data)
        load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise Invalid(f"needs a PEM certificate and an unencrypted private key ({exc})") from None
    return pem if pem.endswith("\n") else pem + "\n"


def each(
    tree: Tree, section: str, build: Callable[[str, dict[str, str]], T], previous: dict[str, T], ctx: Context
) -> dict[str, T]:
    """Build every entity; an invalid one is reported and its previous good version kept.
    A valid entity that did not change since the previous parse is reused as is."""
    out: dict[str, T] = {}
    for key, keys in sorted(tree.items()):
        ident = section + key
        if ctx.changed is not None and ident not in ctx.changed and ident in ctx.prev.clean and key in previous:
            out[key] = previous[key]
            ctx.wiring.clean.add(ident)
            continue
        errors = len(ctx.wiring.errors)
        try:
            out[key] = build(key, keys)
            if len(ctx.wiring.errors) == errors:
                ctx.wiring.clean.add(ident)
        except Invalid as exc:
            ctx.wiring.errors.append(f"{ident}: {exc}")
            if key in previous:
                out[key] = previous[key]
    return out


class Context:
    def __init__(self, wiring: Wiring, prev: Wiring, changed: set[str] | None):
        self.wiring, self.prev, self.changed = wiring, prev, changed


def parse(keys: dict[str, str] | KeyTree, previous: Wiring | None = None, changed: set[str] | None = None) -> Wiring:
    """The wiring for `keys`. With `previous` and the set of entities `changed` since it
    (as KeyTree names them), unchanged valid entities are reused instead of rebuilt."""
    tree = keys if isinstance(keys, KeyTree) else KeyTree.of(keys)
    prev = previous or Wiring()
    wiring = Wiring(revision=tree.get(yoda.REVISION))
    ctx = Context(wiring, prev, changed if previous else None)
    report = wiring.errors.append
    sections = tree.sections
    prev_hosts = {h.name: h for h in prev.hosts.values()}
    wiring.raw_hosts = each(
        sections[HOSTS], HOSTS, lambda k, v: parse_host(k, v, report, prev_hosts.get(k.lower())), prev.raw_hosts, ctx
    )
    wiring.hosts = {h.name: h for h in wiring.raw_hosts.values()}
    wiring.upstreams = each(
        sections[UPSTREAMS], UPSTREAMS, lambda k, v: parse_upstream(k, v, report), prev.upstreams, ctx
    )
    wiring.listeners = each(sections[LISTENERS], LISTENERS, parse_listener, prev.listeners, ctx)
    wiring.acls = each(sections[ACLS], ACLS, parse_acl, prev.acls, ctx)
    wiring.acls.setdefault(DEFAULT_ACL, PUBLIC_CIDRS)
    certs = {k: v for k, v in sections[CERTS].items() if "" in v}
    wiring.certs = each(certs, CERTS, parse_cert, prev.certs, ctx)
    wiring.pages = {
        code: page for code in ("404", "503") if (page := tree.get(f"{yoda.ERROR_PAGES}/{code}", "")).strip()
    }
    cross_check(wiring)
    return wiring


def cross_check(wiring: Wiring) -> None:
    """References between entities: aliases owned twice, unknown ACLs, mode mismatches."""
    owners: dict[str, str] = {h: h for h in wiring.hosts}
    for host in wiring.hosts.values():
        for alias in host.aliases:
            if owners.setdefault(alias, host.name) != host.name:
                wiring.errors.append(f"{HOSTS}{host.name}: alias {alias} already belongs to {owners[alias]}")
        paths: dict[str, str] = {}
        for loc in host.locations:
            if paths.setdefault(loc.path.rstrip("/") or "/", loc.name) != loc.name:
                wiring.errors.append(
                    f"{location_ref(host.name, loc.name)}: path {loc.path} "
                    f"also used by location {paths[loc.path.rstrip('/') or '/']}"
                )
            for acl in loc.allowed + loc.denied:
                if acl not in wiring.acls:
                    wiring.errors.append(f"{location_ref(host.name, loc.name)}: unknown acl {acl}")
            for upstream in filter(None, (loc.upstream, loc.canary)):
                up = wiring.upstreams.get(upstream)
                if up and up.mode != "http":
                    wiring.errors.append(f"{location_ref(host.name, loc.name)}: upstream {up.name} is tcp")
    for listener in wiring.listeners.values():
        up = wiring.upstreams.get(listener.upstream)
        if up is None or up.mode != "tcp":
            wiring.errors.append(f"{LISTENERS}{listener.name}: upstream {listener.upstream} must exist with mode tcp")
