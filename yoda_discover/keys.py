"""Where discovery writes in etcd (the yoda layout, DESIGN.md §4)."""
from __future__ import annotations


def endpoints_prefix(base: str) -> str:
    return f"{base.rstrip('/')}/upstreams/"


def endpoint_key(base: str, upstream: str, node: str) -> str:
    return f"{base.rstrip('/')}/upstreams/{upstream}/endpoints/{node}"


def parse_endpoint_key(base: str, key: str) -> tuple[str, str] | None:
    """(upstream, node) for an endpoint key, else None."""
    rest = key[len(endpoints_prefix(base)):] if key.startswith(endpoints_prefix(base)) else ""
    parts = rest.split("/")
    if len(parts) == 3 and parts[1] == "endpoints" and parts[0] and parts[2]:
        return parts[0], parts[2]
    return None


def proxy_nodes_prefix(base: str) -> str:
    return f"{base.rstrip('/')}/proxy-nodes/"


def proxy_node_info_key(base: str, node: str) -> str:
    return f"{proxy_nodes_prefix(base)}{node}/info"
