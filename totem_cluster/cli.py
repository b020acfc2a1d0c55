"""`totem cluster up [--nodes N] [--totem-on-swarm] | down | status [--json]`."""

from __future__ import annotations

import argparse
import json
import sys

from totem.settings import load_or_exit
from totem_cluster.rig import Cluster, RigError, StartFailed


def _nodes(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: a number of hosts, 1 or more")
    return int(value)


def register(subparsers: argparse._SubParsersAction) -> None:
    cluster = subparsers.add_parser("cluster", help="a local multi-host cluster (network namespaces, as root)")
    actions = cluster.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    up = actions.add_parser("up", help="make the hosts and start what is not running")
    up.add_argument("--nodes", type=_nodes, default=3, help="how many hosts (3)")
    up.add_argument(
        "--totem-on-swarm",
        action="store_true",
        help="then deploy Totem itself onto the swarm (deploy/stack.yml) and the sample app through it",
    )
    up.set_defaults(handler=_up)
    down = actions.add_parser("down", help="remove every namespace, link, mount, process and file `up` made")
    down.set_defaults(handler=_down)
    status = actions.add_parser("status", help="one line per host part; exit 1 unless all are up")
    status.add_argument("--json", action="store_true", help="print a JSON list")
    status.set_defaults(handler=_status)


def _up(args: argparse.Namespace) -> int:
    settings = load_or_exit("totem cluster")
    try:
        cluster = Cluster.up(settings, args.nodes, sys.stdout)
    except (RigError, StartFailed) as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    for name, value in cluster.docker_env().items():
        print(f"{name}={value}")
    return _totem_on_swarm(cluster, settings) if args.totem_on_swarm else 0


def _totem_on_swarm(cluster: Cluster, settings) -> int:
    import docker

    from totem_cluster import on_swarm

    try:
        info = on_swarm.deploy_totem(cluster, settings, sys.stdout)
        outcome = on_swarm.deploy_sample_app(info, version="swarm")
    except (RuntimeError, docker.errors.DockerException) as failed:
        print(f"FAILED: Totem on the swarm: {failed}", file=sys.stderr)
        return 1
    if outcome.status != "live":
        print(f"FAILED: the sample app through Totem on the swarm: {outcome.reason}", file=sys.stderr)
        return 1
    print(f"Totem runs on the swarm; the sample app: curl -H 'Host: {on_swarm.HELLO}' http://{info.proxy()}/")
    return 0


def _down(args: argparse.Namespace) -> int:
    cluster = Cluster.load(load_or_exit("totem cluster"))
    if cluster is None:
        print("no cluster")
        return 0
    try:
        cluster.down(sys.stdout)
    except RigError as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> int:
    cluster = Cluster.load(load_or_exit("totem cluster"))
    entries = cluster.status() if cluster else []
    if args.json:
        print(json.dumps(entries, indent=2))
    elif cluster is None:
        print("no cluster (run `totem cluster up`)")
    else:
        print(f"{'HOST':<5} {'NAME':<18} {'ADDRESS':<26} {'PID':<8} STATE")
        for entry in entries:
            pid = "-" if entry["pid"] is None else str(entry["pid"])
            state = "up" if entry["alive"] else "down"
            print(f"{entry['host']:<5} {entry['name']:<18} {entry['address']:<26} {pid:<8} {state}")
    return 0 if entries and all(entry["alive"] for entry in entries) else 1
