"""Turn the flat etcd keys under YODA_BASE into a validated `Wiring`.

Key by key: a key yoda-proxy does not read (a 2015 listener bind, `global/hostname`, an unknown
field) goes to `Wiring.ignored` with the reason; a bad entity is one error (`Wiring.errors`, named
by its key) and is left out or kept in its previous version. Neither stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from totem.contracts import yoda
from yoda_proxy.keytree import ACLS, CERTS, HOSTS, LISTENERS, UPSTREAMS, KeyTree, Tree
from yoda_proxy.model import (
    DEFAULT_ACL,
    DEFAULT_FRAME_OPTIONS,
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
    frame_options,
    hostname,
    listener_id,
    name,
    pause_ms,
    retry_after,
    segment,
)

T = TypeVar("T")
Note = Callable[[str, str], None]  # (key, why it is ignored)
IGNORED = (yoda.PROXY_NODES + "/",)  # written by the proxies themselves, not wiring
OWN_BINDS = "Totem's proxy takes its own listen addresses from --http/--https/--admin, not from etcd"
LEGACY_LISTENERS = {  # 2015 global/listeners/<name>/bind of the proxy's own frontends
    "http": OWN_BINDS,
    "https": OWN_BINDS,
    "admin": OWN_BINDS,
    "proxy-http": OWN_BINDS + " (no PROXY-protocol frontends)",
    "proxy-https": OWN_BINDS + " (no PROXY-protocol frontends)",
}
FLAT = {yoda.REVISION, f"{yoda.ERROR_PAGES}/404", f"{yoda.ERROR_PAGES}/503"}  # flat keys that are read
LEGACY_FLAT = {
    "global/hostname": "2015 stats host name: the stats page is on --admin",
    "global/control/reload": "2015 confd reload trigger: every change is applied by itself",
}
HOST_FIELDS = (yoda.X_FRAME_OPTIONS, *yoda.HOST_FLAGS)
LOCATION_FIELDS = (yoda.PATH, yoda.UPSTREAM, yoda.FORCE_SSL, yoda.CANARY_UPSTREAM, yoda.CANARY_WEIGHT)
UPSTREAM_FIELDS = (yoda.MODE, yoda.HEALTH_URI, yoda.HEALTH_TIMEOUT, yoda.HEALTH_INTERVAL)
ACL_DIRS = (yoda.ALLOWED + "/", yoda.DENIED + "/")


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


def note_unknown(
    ref: str, keys: dict[str, str], fields: tuple[str, ...], dirs: tuple[str, ...], note: Note, why: str = ""
) -> None:
    """Note each key of an entity that is neither one of `fields` nor under one of `dirs`."""
    for rest in sorted(keys):
        if rest not in fields and not rest.startswith(dirs):
            note(f"{ref}/{rest}" if rest else ref, why or "not a key yoda-proxy reads")


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
        name=segment(loc_id, "location"),
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


def parse_host(
    host_id: str, keys: dict[str, str], report: Callable[[str], None], note: Note, previous: Host | None
) -> Host:
    host = hostname(host_id)
    ref = HOSTS + host_id
    alias_ids = tuple(sorted((i, hostname(v)) for i, v in sub(keys, yoda.ALIASES + "/").items() if v.strip()))
    aliases = tuple(sorted({alias for _, alias in alias_ids} - {host}))
    old = {loc.name: loc for loc in previous.locations} if previous else {}
    locations = []
    for loc_id, loc_keys in sorted(group(keys, yoda.LOCATIONS + "/").items()):
        loc_ref = location_ref(host_id, loc_id)
        note_unknown(loc_ref, loc_keys, LOCATION_FIELDS, ACL_DIRS, note)
        try:
            locations.append(parse_location(loc_id, loc_keys))
        except Invalid as exc:
            report(f"{loc_ref}: {exc}")
            if loc_id in old:
                locations.append(old[loc_id])
    frame = previous.frame_options if previous else DEFAULT_FRAME_OPTIONS
    if keys.get(yoda.X_FRAME_OPTIONS, "").strip():
        try:
            frame = frame_options(keys[yoda.X_FRAME_OPTIONS])
        except Invalid as exc:
            report(f"{ref}/{yoda.X_FRAME_OPTIONS}: {exc}")
    kept = previous or Host(host)
    maintenance = host_flag(keys, yoda.MAINTENANCE, retry_after, ref, report, kept.maintenance)
    pause = host_flag(keys, yoda.PAUSE, pause_ms, ref, report, kept.pause_ms) or 0
    note_unknown(ref, keys, HOST_FIELDS, (yoda.ALIASES + "/", yoda.LOCATIONS + "/"), note)
    return Host(host, aliases, tuple(locations), frame, alias_ids, maintenance, pause)


def host_flag(
    keys: dict[str, str],
    field: str,
    read: Callable[[str], int],
    ref: str,
    report: Callable[[str], None],
    kept: int | None,
) -> int | None:
    """A host switch that is on while its key is present: its value read, None when absent; a bad
    value is reported and the previous state (`kept`) stays."""
    if field not in keys:
        return None
    try:
        return read(keys[field])
    except Invalid as exc:
        report(f"{ref}/{field}: {exc}")
        return kept


def parse_upstream(up_id: str, keys: dict[str, str], report: Callable[[str], None], note: Note) -> Upstream:
    ref = UPSTREAMS + up_id
    note_unknown(
        f"{ref}/endpoints-meta", sub(keys, "endpoints-meta/"), (), (), note, "2015 endpoint metadata: not read"
    )
    keys_read = {k: v for k, v in keys.items() if not k.startswith("endpoints-meta/")}
    note_unknown(ref, keys_read, UPSTREAM_FIELDS, (yoda.ENDPOINTS + "/",), note)
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
            ip, port = address(value, "endpoint", resolve=True)
            endpoints.append((node, ip, port))  # the node name is only a key: any name will do
        except Invalid as exc:  # only this endpoint is left out
            report(f"{ref}/{yoda.ENDPOINTS}/{node}: {exc}")
    checked = any(keys.get(k, "").strip() for k in (yoda.HEALTH_URI, yoda.HEALTH_INTERVAL, yoda.HEALTH_TIMEOUT))
    return Upstream(name(up_id, "upstream"), mode, Health(uri, timeout, interval), tuple(endpoints), checked)


def listener_trees(tree: Tree, note: Note) -> Tree:
    """Totem's listeners (global/listeners/<name>) and 2015's (global/listeners/tcp/<n>), by their
    key below global/listeners; the 2015 binds of the proxy's own frontends are only noted."""
    out: Tree = {}
    for head, keys in tree.items():
        if head in LEGACY_LISTENERS:
            for rest in sorted(keys):
                note(f"{LISTENERS}{head}/{rest}" if rest else f"{LISTENERS}{head}", LEGACY_LISTENERS[head])
        elif head == yoda.TCP_LISTENERS:
            for inner, inner_keys in group(keys, "").items():
                out[f"{head}/{inner}"] = inner_keys
        else:
            out[head] = keys
    return out


def parse_listener(key: str, keys: dict[str, str], note: Note) -> Listener:
    note_unknown(LISTENERS + key, keys, (yoda.BIND, yoda.UPSTREAM), ACL_DIRS, note)
    if not keys.get(yoda.BIND, "").strip() or not keys.get(yoda.UPSTREAM, "").strip():
        raise Invalid("incomplete: needs both bind and upstream")
    if "/" not in key:
        name(key, "listener")
    segment(key.split("/", 1)[-1], "listener")
    ip, port = address(keys[yoda.BIND], "bind", allow_empty_host=True)
    return Listener(
        listener_id(key),
        ip,
        port,
        name(keys[yoda.UPSTREAM].strip(), "upstream"),
        allowed=acl_list(sub(keys, yoda.ALLOWED + "/"), "allowed acl"),
        denied=acl_list(sub(keys, yoda.DENIED + "/"), "denied acl"),
    )


def parse_acl(acl_id: str, keys: dict[str, str], note: Note) -> tuple[str, ...]:
    name(acl_id, "acl")
    note_unknown(ACLS + acl_id, keys, (yoda.CIDR_SRC,), (), note)
    if yoda.CIDR_SRC not in keys:
        raise Invalid(f"incomplete: needs {yoda.CIDR_SRC}")
    return cidrs(keys[yoda.CIDR_SRC], yoda.CIDR_SRC)


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
    A valid entity that did not change since the previous parse is reused as is (one with errors or
    ignored keys is built again, so they are reported again)."""
    out: dict[str, T] = {}
    for key, keys in sorted(tree.items()):
        ident = section + key
        if ctx.changed is not None and ident not in ctx.changed and ident in ctx.prev.clean and key in previous:
            out[key] = previous[key]
            ctx.wiring.clean.add(ident)
            continue
        errors, ignored = len(ctx.wiring.errors), len(ctx.wiring.ignored)
        try:
            out[key] = build(key, keys)
            if len(ctx.wiring.errors) == errors and len(ctx.wiring.ignored) == ignored:
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
    note = wiring.ignored.__setitem__
    sections = tree.sections
    prev_hosts = {h.name: h for h in prev.hosts.values()}
    wiring.raw_hosts = each(
        sections[HOSTS],
        HOSTS,
        lambda k, v: parse_host(k, v, report, note, prev_hosts.get(k.lower())),
        prev.raw_hosts,
        ctx,
    )
    wiring.hosts = {h.name: h for h in wiring.raw_hosts.values()}
    wiring.upstreams = each(
        sections[UPSTREAMS], UPSTREAMS, lambda k, v: parse_upstream(k, v, report, note), prev.upstreams, ctx
    )
    listeners = listener_trees(sections[LISTENERS], note)  # few: always rebuilt (2015 ones share one entity)
    wiring.listeners = each(
        listeners, LISTENERS, lambda k, v: parse_listener(k, v, note), prev.listeners, Context(wiring, prev, None)
    )
    wiring.acls = each(sections[ACLS], ACLS, lambda k, v: parse_acl(k, v, note), prev.acls, ctx)
    wiring.acls.setdefault(DEFAULT_ACL, PUBLIC_CIDRS)
    certs = {k: v for k, v in sections[CERTS].items() if "" in v}
    for cert_id, cert_keys in sections[CERTS].items():
        note_unknown(CERTS + cert_id, cert_keys, ("",), (), note)
    wiring.certs = each(certs, CERTS, parse_cert, prev.certs, ctx)
    for key in sorted(set(tree.flat) - FLAT):
        note(
            key,
            LEGACY_FLAT.get(key)
            or ("2015 yoda-route53 state" if key.startswith("route53/") else "")
            or "not a key yoda-proxy reads",
        )
    wiring.pages = {
        code: page for code in ("404", "503") if (page := tree.get(f"{yoda.ERROR_PAGES}/{code}", "")).strip()
    }
    cross_check(wiring)
    return wiring


def cross_check(wiring: Wiring) -> None:
    """References between entities: aliases owned twice, unknown ACLs, mode mismatches, and locations
    whose upstream was left out (so the app that wrote the location learns of it)."""
    owners: dict[str, str] = {h: h for h in wiring.hosts}
    raw = {h.name: key for key, h in wiring.raw_hosts.items()}
    bad = bad_upstreams(wiring)
    for host in wiring.hosts.values():
        host_ref = HOSTS + raw.get(host.name, host.name)
        for alias_id, alias in host.alias_ids:
            if alias != host.name and owners.setdefault(alias, host.name) != host.name:
                wiring.errors.append(
                    f"{host_ref}/{yoda.ALIASES}/{alias_id}: alias {alias} already belongs to {owners[alias]}"
                )
        wiring.errors += location_errors(host, host_ref, wiring, bad)
    for key, listener in wiring.listeners.items():
        up = wiring.upstreams.get(listener.upstream)
        if up is None or up.mode != "tcp":
            wiring.errors.append(f"{LISTENERS}{key}: upstream {listener.upstream} must exist with mode tcp")
        for acl in listener.allowed + listener.denied:
            if acl not in wiring.acls:
                wiring.errors.append(f"{LISTENERS}{key}: unknown acl {acl}")


def bad_upstreams(wiring: Wiring) -> dict[str, str]:
    """{upstream: why} of the upstreams left out (errors of the upstream itself, not of one endpoint)."""
    skipped = {ref[len(UPSTREAMS) :]: why for ref, why in wiring.skipped().items() if ref.startswith(UPSTREAMS)}
    return {up: why for up, why in skipped.items() if "/" not in up}


def location_errors(host: Host, host_ref: str, wiring: Wiring, bad: dict[str, str]) -> list[str]:
    """A host's locations against each other and the rest of the wiring (the incremental path asks too)."""
    errors = []
    paths: dict[str, str] = {}
    for loc in host.locations:
        loc_ref = f"{host_ref}/{yoda.LOCATIONS}/{loc.name}"
        if paths.setdefault(loc.path.rstrip("/") or "/", loc.name) != loc.name:
            errors.append(f"{loc_ref}: path {loc.path} also used by location {paths[loc.path.rstrip('/') or '/']}")
        for acl in loc.allowed + loc.denied:
            if acl not in wiring.acls:
                errors.append(f"{loc_ref}: unknown acl {acl}")
        for upstream in filter(None, (loc.upstream, loc.canary)):
            up = wiring.upstreams.get(upstream)
            if up and up.mode != "http":
                errors.append(f"{loc_ref}: upstream {up.name} is tcp")
            if upstream in bad:
                errors.append(f"{loc_ref}: upstream {upstream} has errors ({bad[upstream]})")
    return errors
