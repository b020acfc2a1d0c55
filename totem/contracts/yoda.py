"""The proxy wiring under YODA_BASE (the 2015 yoda layout plus Totem's additions; docs/architecture.md §3.3).

    hosts/<host>/aliases/<id>                          = alias host name
    hosts/<host>/x-frame-options                       = DENY (default) | SAMEORIGIN | off
    hosts/<host>/maintenance                           = Retry-After seconds (present: a 503 maintenance page)
    hosts/<host>/pause                                 = seconds a request is held at most (present: paused)
    hosts/<host>/locations/<loc>/{path,upstream,force-ssl,canary/upstream,canary/weight}
    hosts/<host>/locations/<loc>/acls/{allowed,denied}/<id> = ACL name
    upstreams/<up>/{mode,health/uri,health/timeout,health/interval}
    upstreams/<up>/endpoints/<node>                    = ip:port (leased)
    global/listeners/<name>/{bind,upstream}   global/acls/<name>/cidr/src   global/errors/<code>
    global/listeners/tcp/<n>/{bind,upstream,acls/allowed/<id>,acls/denied/<id>}  (2015 TCP listeners)
    certs/<name>                                       = PEM
    revision                                           = the deployer's wiring revision
    proxy-nodes/<node>/{info,applied,error,skipped}    (leased)

Builders take the base ("/yoda" or "/yoda/") and return absolute keys. Field names are the
relative keys under an entity, as the proxy's parser reads them.
"""

from __future__ import annotations

from typing import NamedTuple

# Sections under the base.
HOSTS = "hosts"
UPSTREAMS = "upstreams"
LISTENERS = "global/listeners"
ACLS = "global/acls"
ERROR_PAGES = "global/errors"
CERTS = "certs"
PROXY_NODES = "proxy-nodes"
REVISION = "revision"

# Under hosts/<host>/.
ALIASES = "aliases"
LOCATIONS = "locations"
X_FRAME_OPTIONS = "x-frame-options"
MAINTENANCE = "maintenance"  # Retry-After seconds, 1..MAX_RETRY_AFTER
PAUSE = "pause"  # the longest a request is held, seconds (decimals allowed), up to MAX_PAUSE
HOST_FLAGS = (MAINTENANCE, PAUSE)  # host-level switches the deployer's traffic calls own (deployer/traffic.py)
MAX_RETRY_AFTER = 86400
MAX_PAUSE = 300

# Under hosts/<host>/locations/<loc>/.
PATH = "path"
UPSTREAM = "upstream"  # also under global/listeners/<name>/
FORCE_SSL = "force-ssl"
CANARY_UPSTREAM = "canary/upstream"
CANARY_WEIGHT = "canary/weight"
ALLOWED = "acls/allowed"
DENIED = "acls/denied"

# Under upstreams/<up>/.
MODE = "mode"
HEALTH_URI = "health/uri"
HEALTH_TIMEOUT = "health/timeout"
HEALTH_INTERVAL = "health/interval"
ENDPOINTS = "endpoints"

# Under global/listeners/<name>/ and global/acls/<name>/.
BIND = "bind"
TCP_LISTENERS = "tcp"  # global/listeners/tcp/<n>/...: the 2015 TCP listeners (ALLOWED, DENIED too)
CIDR_SRC = "cidr/src"

BACKEND_PREFIX = "u_"  # HAProxy's backend for upstream <up> is u_<up> (what Prometheus metrics name)


def backend(upstream: str) -> str:
    return BACKEND_PREFIX + upstream


# Under proxy-nodes/<node>/.
INFO = "info"
APPLIED = "applied"
ERROR = "error"
SKIPPED = "skipped"  # JSON {entity key: reason}: entries the applied revision left out (or kept old)


def prefix(base: str) -> str:
    """The base with one trailing slash: every key below starts with it."""
    return base.rstrip("/") + "/"


def relative(base: str, key: str) -> str | None:
    """`key` without the base ("hosts/a/aliases/1"), or None when it lies elsewhere."""
    root = prefix(base)
    return key[len(root) :] if key.startswith(root) else None


# -- hosts -----------------------------------------------------------------------


def hosts_prefix(base: str) -> str:
    return f"{prefix(base)}{HOSTS}/"


def host_prefix(base: str, host: str) -> str:
    return f"{hosts_prefix(base)}{host}/"


def host_setting_key(base: str, host: str, field: str) -> str:
    """`field` is X_FRAME_OPTIONS, MAINTENANCE or PAUSE."""
    return host_prefix(base, host) + field


def alias_key(base: str, host: str, alias_id: str) -> str:
    return f"{host_prefix(base, host)}{ALIASES}/{alias_id}"


def location_prefix(base: str, host: str, location: str) -> str:
    return f"{host_prefix(base, host)}{LOCATIONS}/{location}/"


def location_key(base: str, host: str, location: str, field: str) -> str:
    """`field` is PATH, UPSTREAM, FORCE_SSL, CANARY_UPSTREAM or CANARY_WEIGHT."""
    return location_prefix(base, host, location) + field


def location_acl_key(base: str, host: str, location: str, kind: str, acl_id: str) -> str:
    """`kind` is ALLOWED or DENIED; the value is an ACL name from global/acls."""
    return f"{location_prefix(base, host, location)}{kind}/{acl_id}"


class HostKey(NamedTuple):
    """hosts/<host>/<kind>/<ident>[/<field>]: kind is ALIASES or LOCATIONS."""

    host: str
    kind: str
    ident: str
    field: str


def parse_host_key(base: str, key: str) -> HostKey | None:
    """The parts of an alias or location key, else None."""
    rest = relative(base, key)
    parts = rest.split("/", 4) if rest else []
    if len(parts) < 4 or parts[0] != HOSTS or parts[2] not in (ALIASES, LOCATIONS):
        return None
    return HostKey(parts[1], parts[2], parts[3], parts[4] if len(parts) > 4 else "")


# -- upstreams -------------------------------------------------------------------


def upstream_name(app: str, version: str, port: int | str) -> str:
    """`<app>-<version>-<port>`: one upstream per version, so a blue-green switch rewrites one value."""
    return f"{app}-{version}-{port}"


def upstreams_prefix(base: str) -> str:
    return f"{prefix(base)}{UPSTREAMS}/"


def upstream_prefix(base: str, upstream: str) -> str:
    return f"{upstreams_prefix(base)}{upstream}/"


def upstream_key(base: str, upstream: str, field: str) -> str:
    """`field` is MODE, HEALTH_URI, HEALTH_TIMEOUT or HEALTH_INTERVAL."""
    return upstream_prefix(base, upstream) + field


def endpoints_prefix(base: str, upstream: str) -> str:
    return f"{upstream_prefix(base, upstream)}{ENDPOINTS}/"


def endpoint_key(base: str, upstream: str, node: str) -> str:
    return endpoints_prefix(base, upstream) + node


def endpoint_value(address: str, port: int | str) -> str:
    """`ip:port` of one instance: what yoda-discover registers (and the deployer's reconcile, for it)."""
    return f"{address}:{port}"


def parse_endpoint_key(base: str, key: str) -> tuple[str, str] | None:
    """(upstream, node) for an endpoint key, else None."""
    rest = relative(base, key)
    parts = rest.split("/") if rest else []
    if len(parts) == 4 and parts[0] == UPSTREAMS and parts[2] == ENDPOINTS and parts[1] and parts[3]:
        return parts[1], parts[3]
    return None


# -- global ----------------------------------------------------------------------


def listener_key(base: str, name: str, field: str) -> str:
    """`field` is BIND or UPSTREAM."""
    return f"{prefix(base)}{LISTENERS}/{name}/{field}"


def acl_cidr_key(base: str, name: str) -> str:
    return f"{prefix(base)}{ACLS}/{name}/{CIDR_SRC}"


def error_page_key(base: str, code: int | str) -> str:
    return f"{prefix(base)}{ERROR_PAGES}/{code}"


def cert_key(base: str, name: str) -> str:
    return f"{prefix(base)}{CERTS}/{name}"


def revision_key(base: str) -> str:
    return prefix(base) + REVISION


# -- proxy nodes -----------------------------------------------------------------


def proxy_nodes_prefix(base: str) -> str:
    return f"{prefix(base)}{PROXY_NODES}/"


def proxy_node_prefix(base: str, node: str) -> str:
    return f"{proxy_nodes_prefix(base)}{node}/"


def proxy_node_key(base: str, node: str, field: str) -> str:
    """`field` is INFO, APPLIED, ERROR or SKIPPED."""
    return proxy_node_prefix(base, node) + field


def proxy_node_info_key(base: str, node: str) -> str:
    return proxy_node_key(base, node, INFO)


def parse_proxy_node_key(base: str, key: str) -> tuple[str, str] | None:
    """(node, field) for a proxy-nodes/<node>/<field> key, else None."""
    rest = relative(base, key)
    parts = rest.split("/") if rest else []
    if len(parts) == 3 and parts[0] == PROXY_NODES and parts[1] and parts[2]:
        return parts[1], parts[2]
    return None
