"""`yoda-discover`: registers healthy app instances and announces proxy nodes in etcd.

yoda-discover [watch]              every totem-labelled container on this Docker host, and ships
                                   the output of those with a totem.syslog label (docs/logging.md)
yoda-discover register CONTAINER   one container, as its sidekick
yoda-discover presence --node N    this proxy node, under <base>/proxy-nodes/N/info

--metrics HOST:PORT (any mode): Prometheus /metrics there, announced in etcd (docs/metrics.md).

--host-ip swarm (or auto): the address this node advertises in its Docker Swarm (the engine's
`docker info` Swarm.NodeAddr), for a global Swarm service whose command is the same on every node.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading

MODES = ("watch", "register", "presence")


def build_parser(defaults) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--etcd", default=defaults.etcd_url, help="store URL (TOTEM_ETCD_URL)")
    common.add_argument("--base", default=defaults.yoda_base, help="yoda key prefix (YODA_BASE)")
    common.add_argument(
        "--host-ip",
        default="127.0.0.1",
        help="address written into endpoints and checked; 'swarm' (or 'auto'): this node's Swarm address",
    )
    common.add_argument("--interval", type=float, default=1.0, help="seconds between health checks")
    common.add_argument("--timeout", type=float, default=2.0, help="seconds one health check may take")
    common.add_argument("--fall", type=int, default=3, help="consecutive failed checks that deregister")
    common.add_argument("--ttl", type=int, default=5, help="lease TTL in seconds")
    common.add_argument(
        "--metrics",
        default="",
        metavar="HOST:PORT",
        help="serve Prometheus /metrics there (port 0: a free one) and announce it in etcd (docs/metrics.md)",
    )

    parser = argparse.ArgumentParser(
        prog="yoda-discover", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    modes = parser.add_subparsers(dest="mode")
    watch = modes.add_parser("watch", parents=[common], help="register every labelled container (default)")
    watch.add_argument("--resync", type=float, default=30.0, help="seconds between full resyncs with docker ps")
    watch.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="only containers that also carry this label (repeatable)",
    )
    watch.add_argument("--docker-host", default=defaults.docker_host)
    watch.add_argument("--no-ship-logs", dest="ship_logs", action="store_false", help="do not ship instances' output")
    watch.add_argument(
        "--log-state",
        default=str(defaults.home / "log-shipper"),
        help="folder of the shipper's cursors (default $TOTEM_HOME/log-shipper)",
    )
    watch.add_argument("--syslog-ca", default=None, help="CA bundle for tls:// collectors (default: the system's)")
    register = modes.add_parser("register", parents=[common], help="register one container (sidekick)")
    register.add_argument("container", help="container name or id")
    register.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the container to run")
    register.add_argument("--docker-host", default=defaults.docker_host)
    presence = modes.add_parser("presence", parents=[common], help="announce a proxy node")
    presence.add_argument("--node", default=socket.gethostname(), help="proxy node name")
    presence.add_argument("--address", help="address published for the node (default: --host-ip)")
    presence.add_argument("--http", type=int, default=8080)
    presence.add_argument("--https", type=int, default=8443, help="0 when there is no HTTPS listener")
    presence.add_argument("--admin", type=int, default=8081)
    return parser


def parse_args(argv: list[str], settings) -> argparse.Namespace:
    """`watch` is the mode when none is given."""
    argv = list(argv)
    if not argv or (argv[0] not in MODES and argv[0] not in ("-h", "--help")):
        argv.insert(0, "watch")
    return build_parser(settings).parse_args(argv)


def _stop_on_signals() -> threading.Event:
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    return done


def _docker(url: str):
    import docker

    return docker.DockerClient(base_url=url, timeout=30)


def main(argv: list[str] | None = None) -> int:
    from totem import logs, swarm_node
    from totem.settings import load_or_exit
    from totem.store import connect
    from yoda_discover.registrar import CheckPolicy

    settings = load_or_exit("yoda-discover")
    args = parse_args(sys.argv[1:] if argv is None else argv, settings)
    logs.bootstrap("yoda-discover", settings)
    try:
        args.host_ip = swarm_node.resolve(args.host_ip, getattr(args, "docker_host", settings.docker_host), "--host-ip")
    except ValueError as exc:
        print(f"yoda-discover: {exc}", file=sys.stderr)
        return 2
    policy = CheckPolicy(interval=args.interval, timeout=args.timeout, fall=args.fall, ttl=args.ttl)
    store = connect(args.etcd)
    base = "/" + args.base.strip("/")
    done = _stop_on_signals()
    announcement = _serve_metrics(args.metrics, args.etcd, base) if args.metrics else None
    try:
        return _run(args, store, base, done, policy)
    finally:
        if announcement is not None:
            announcement.stop()


def _serve_metrics(bind: str, etcd_url: str, base: str):
    """/metrics at `bind`, announced under the services prefix beside `base` (unless
    TOTEM_SERVICES_PREFIX says otherwise: totem/contracts/services.py)."""
    import logging
    import os

    from totem import metrics, service_registry

    metrics.initialise()
    try:
        _server, address = metrics.serve(bind, metrics.registry())
    except (OSError, ValueError) as exc:
        logging.getLogger("yoda_discover").warning("cannot serve metrics on %s: %s", bind, exc)
        return None
    environ = {**os.environ, "TOTEM_ETCD_URL": etcd_url, "YODA_BASE": base}
    return service_registry.announce("yoda-discover", address, environ)


def _run(args: argparse.Namespace, store, base: str, done: threading.Event, policy) -> int:
    if args.mode == "watch":
        from pathlib import Path

        from yoda_discover.docker_watcher import DockerWatcher
        from yoda_discover.log_shipper import LogShipper

        client = _docker(args.docker_host)
        watcher = DockerWatcher(store, client, base, args.host_ip, policy, args.resync, tuple(args.label)).start()
        shipper = None
        if args.ship_logs:  # its own client: log streams must not hold the watcher's connections
            shipper = LogShipper(
                _docker(args.docker_host), Path(args.log_state), tuple(args.label), args.resync, args.syslog_ca
            ).start()
        done.wait()
        watcher.stop()
        if shipper is not None:
            shipper.stop()
        return 0
    if args.mode == "register":
        from yoda_discover.labels import LabelError
        from yoda_discover.sidekick import ContainerNotRunning, run_sidekick

        try:
            run_sidekick(store, _docker(args.docker_host), base, args.container, done, args.host_ip, policy, args.wait)
        except (ContainerNotRunning, LabelError) as exc:
            print(f"yoda-discover: {exc}", file=sys.stderr)
            return 1
        return 0
    from yoda_discover.presence import ProxyNode, presence_registration, run_presence

    proxy = ProxyNode(args.node, args.address or args.host_ip, args.http, args.https, args.admin)
    run_presence(presence_registration(store, base, proxy, args.host_ip, policy), done)
    return 0
