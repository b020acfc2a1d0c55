"""The 3-host rig (totem_cluster) for every test here: a rig already up is reused and left running;
otherwise one is brought up for the session and taken down at its end, on failure too."""

from __future__ import annotations

import os
import sys

import pytest

from totem.settings import Settings
from totem_cluster.rig import Cluster
from totem_stack import packages

NODES = 3


def usable(cluster: Cluster | None) -> bool:
    return cluster is not None and len(cluster.hosts) == NODES and all(entry["alive"] for entry in cluster.status())


@pytest.fixture(scope="session")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("the cluster rig needs root (network namespaces, dockerd)")
    missing = [tool for tool in ("ip", "nsenter") if not packages.find_binary(tool)]
    if missing:
        pytest.skip(f"the cluster rig needs {', '.join(missing)} (iproute2, util-linux)")
    settings = Settings.from_env()
    existing = Cluster.load(settings)
    if usable(existing):
        yield existing
        return
    if existing is not None:  # half made, or of another size: start again
        existing.down(sys.stdout)
    try:
        made = Cluster.up(settings, NODES, sys.stdout)
    except BaseException:
        if (half := Cluster.load(settings)) is not None:
            half.down(sys.stdout)
        raise
    try:
        yield made
    finally:
        made.down(sys.stdout)
