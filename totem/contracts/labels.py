"""The `totem.*` labels a scheduler puts on every instance it runs and yoda-discover reads
(docs/architecture.md §3.4).

    totem.upstream   the upstream the instance serves (`<app>-<version>-<port>`)   required
    totem.port       the port it listens on, also in its PORT variable               required
    totem.node       its unique instance name, the endpoint key's last segment       required
    totem.health     HTTP check path; empty or absent: a TCP connect check
    totem.app, totem.version, totem.deployment, totem.cluster
    totem.syslog     where the host's log shipper sends its output (docs/logging.md); absent: not shipped
    totem.run        on a scheduled job's run instead of the four above: its run id (never discovered)

The schedulers also filter their own instances by these labels (Docker `label=` filters).
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "totem."

APP = "totem.app"
VERSION = "totem.version"
UPSTREAM = "totem.upstream"
PORT = "totem.port"
NODE = "totem.node"
HEALTH = "totem.health"
DEPLOYMENT = "totem.deployment"
CLUSTER = "totem.cluster"
RUN = "totem.run"
SYSLOG = "totem.syslog"

# What yoda-discover cannot register an instance without; UPSTREAM alone marks a container as Totem's.
REQUIRED = (UPSTREAM, PORT, NODE)


def instance_labels(
    *,
    app: str,
    version: str,
    upstream: str,
    port: int,
    node: str,
    health: str,
    deployment: str,
    cluster: str,
    syslog: str = "",
) -> dict[str, str]:
    """Every label of one instance; all values are strings, as Docker stores them."""
    shipped = {SYSLOG: syslog} if syslog else {}
    return {
        APP: app,
        VERSION: version,
        UPSTREAM: upstream,
        PORT: str(port),
        NODE: node,
        HEALTH: health,
        DEPLOYMENT: deployment,
        CLUSTER: cluster,
        **shipped,
    }


def run_labels(*, app: str, version: str, node: str, deployment: str, cluster: str, run: str) -> dict[str, str]:
    """A scheduled job's run: the deployment's labels and its run id, no upstream, port or health,
    so yoda-discover never registers it."""
    return {APP: app, VERSION: version, NODE: node, DEPLOYMENT: deployment, CLUSTER: cluster, RUN: run}


def selector(label: str, value: str) -> str:
    """A Docker label filter (`label=value`), also the form of yoda-discover's `--label`."""
    return f"{label}={value}"


def is_instance(labels: Mapping[str, str] | None) -> bool:
    """The container is one a scheduler labelled for discovery."""
    return labels is not None and UPSTREAM in labels


def missing(labels: Mapping[str, str]) -> list[str]:
    """The required labels that are absent or empty, in REQUIRED's order."""
    return [label for label in REQUIRED if not labels.get(label)]
