"""Live proxy nodes from `<base>/proxy-nodes/<node>/info` = {"address": ..., ...}."""

from __future__ import annotations

import ipaddress
import json
import logging
import re

from totem.contracts import yoda

log = logging.getLogger("yoda_route53.nodes")
_SET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}\.?$")


def _usable(address: object, record_type: str) -> bool:
    if not isinstance(address, str):
        return False
    if record_type == "A":
        try:
            return isinstance(ipaddress.ip_address(address), ipaddress.IPv4Address)
        except ValueError:
            return False
    return bool(_HOST.match(address))


def live_nodes(base: str, keys: dict[str, str], record_type: str = "A") -> dict[str, str]:
    """{node: address} for every node whose info is valid for the record type."""
    nodes: dict[str, str] = {}
    for key, value in keys.items():
        parsed = yoda.parse_proxy_node_key(base, key)
        if parsed is None or parsed[1] != yoda.INFO:
            continue
        node = parsed[0]
        try:
            address = json.loads(value).get("address")
        except (ValueError, AttributeError):
            address = None
        if not _SET_ID.match(node) or not _usable(address, record_type):
            log.warning("skipping proxy node %r: unusable info %r", node, value)
            continue
        nodes[node] = address.rstrip(".") if record_type == "A" else address
    return nodes
