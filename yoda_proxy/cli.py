"""`yoda-proxy`: watch YODA_BASE in etcd and keep a local HAProxy in line with it."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from totem import logs, swarm_node
from totem.settings import load_or_exit
from yoda_proxy.model import NAME
from yoda_proxy.settings import Bind, ProxySettings

log = logging.getLogger("yoda_proxy")


def build_parser() -> argparse.ArgumentParser:
    settings = load_or_exit("yoda-proxy")
    parser = argparse.ArgumentParser(prog="yoda-proxy", description=__doc__)
    add = parser.add_argument
    add("--http", type=Bind.parse, default=Bind("127.0.0.1", 8080), help="HTTP bind (127.0.0.1:8080)")
    add("--https", type=Bind.parse, default=Bind("127.0.0.1", 8443), help="HTTPS bind (127.0.0.1:8443)")
    add("--admin", type=Bind.parse, default=Bind("127.0.0.1", 8081), help="admin bind (127.0.0.1:8081)")
    add("--node", default=ProxySettings.read("node"), help="proxy node name (YODA_NODE)")
    add("--etcd-url", default=settings.etcd_url, help="store URL (TOTEM_ETCD_URL)")
    add("--base", default=settings.yoda_base, help="key prefix (YODA_BASE)")
    add("--work-dir", type=Path, default=settings.home / "proxy", help="haproxy.cfg, sockets, maps")
    add("--haproxy", default="/usr/sbin/haproxy", help="HAProxy binary")
    add("--default-cert", type=Path, help="PEM served when no SNI matches (self-signed if unset)")
    add(
        "--advertise",
        help="address announced in proxy-nodes/<node>/info (default: HTTP bind host); "
        "'swarm' (or 'auto'): this node's Swarm address, asked of --docker-host",
    )
    add("--docker-host", default=settings.docker_host, help="Docker engine for --advertise swarm (DOCKER_HOST)")
    add("--debounce", type=float, default=0.01, help="quiet seconds before a burst needing a full re-plan")
    add(
        "--endpoint-grace",
        type=float,
        default=ProxySettings.read("endpoint_grace"),
        help="seconds an endpoint gone from etcd stays while HAProxy reports it UP (YODA_ENDPOINT_GRACE, 90)",
    )
    add("--log-level", default="INFO")
    return parser


def options(args: argparse.Namespace) -> ProxySettings:
    if not NAME.match(args.node):
        raise SystemExit(f"yoda-proxy: --node {args.node!r} must match {NAME.pattern}")
    if args.endpoint_grace < 0:
        raise SystemExit("yoda-proxy: --endpoint-grace must be 0 or more seconds")
    try:
        advertise = args.advertise and swarm_node.resolve(args.advertise, args.docker_host, "--advertise")
    except ValueError as exc:
        raise SystemExit(f"yoda-proxy: {exc}") from None
    return ProxySettings.from_env(
        etcd_url=args.etcd_url,
        base="/" + args.base.strip("/"),
        node=args.node,
        http=args.http,
        https=args.https,
        admin=args.admin,
        work_dir=args.work_dir.expanduser().resolve(),
        haproxy=args.haproxy,
        default_cert=args.default_cert,
        advertise=advertise,
        debounce=args.debounce,
        endpoint_grace=args.endpoint_grace,
    )


def run(opts: ProxySettings, stop: threading.Event) -> int:
    from totem.store import connect
    from yoda_proxy.admin import AdminServer
    from yoda_proxy.announce import Announcer
    from yoda_proxy.reconciler import Reconciler

    store = connect(opts.etcd_url)
    info = {
        "address": opts.advertise or opts.http.host,
        "http": opts.http.port,
        "https": opts.https.port,
        "admin": opts.admin.port,
    }
    if opts.admin.host not in ("0.0.0.0", "::", info["address"]):  # Prometheus scrapes the admin /metrics
        info["admin_address"] = opts.admin.host
    announcer = Announcer(store, opts.prefix, opts.node, info, opts.lease_ttl)
    reconciler = Reconciler(store, opts, announcer)
    admin = None
    try:
        admin = AdminServer(opts.admin.host, opts.admin.port, reconciler, opts.admin_password).start()
        reconciler.start()
        if not opts.admin_password:
            log.warning("YODA_ADMIN_PASSWORD is not set: the stats page is disabled")
        announcer.flush()
        log.info("yoda-proxy %s serving http %s https %s admin %s", opts.node, opts.http, opts.https, opts.admin)
        stop.wait()
    finally:
        if admin:
            admin.stop()
        reconciler.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.bootstrap("yoda-proxy", level=args.log_level)
    opts = options(args)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return run(opts, stop)


if __name__ == "__main__":
    sys.exit(main())
