"""`yoda-route53`: publishes the live proxy nodes as Route53 record sets.

One record set per node under --record-name (SetIdentifier = node), each with an
ownership TXT record; several instances may run, one leader writes.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def build_parser(defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yoda-route53", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--zone-id", required=True, help="hosted zone id (Z... or /hostedzone/Z...)")
    parser.add_argument("--record-name", required=True, help="e.g. proxy.example.com")
    parser.add_argument("--record-type", choices=["A", "CNAME"], default="A")
    parser.add_argument("--ttl", type=int, default=60)
    routing = parser.add_mutually_exclusive_group()
    routing.add_argument(
        "--weighted",
        dest="routing",
        action="store_const",
        const="weighted",
        help="weighted record sets, weight 1 each (default)",
    )
    routing.add_argument(
        "--multivalue",
        dest="routing",
        action="store_const",
        const="multivalue",
        help="multivalue answer record sets (A only)",
    )
    parser.set_defaults(routing="weighted")
    parser.add_argument(
        "--owner-id", default=defaults.cluster, help="written into the ownership TXT records (default: TOTEM_CLUSTER)"
    )
    parser.add_argument("--txt-prefix", default="yoda-owner.", help="prefix of the ownership TXT record name")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between full reconciles")
    parser.add_argument("--etcd", default=defaults.etcd_url, help="store URL (TOTEM_ETCD_URL)")
    parser.add_argument("--base", default=defaults.yoda_base, help="yoda key prefix (YODA_BASE)")
    parser.add_argument("--once", action="store_true", help="reconcile once (as leader) and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from totem import logs
    from totem.settings import load_or_exit
    from totem.store import connect
    from yoda_route53.leader import Leader
    from yoda_route53.reconciler import Reconciler
    from yoda_route53.records import RecordSpec
    from yoda_route53.zone import Zone

    settings = load_or_exit("yoda-route53")
    args = build_parser(settings).parse_args(argv)
    logs.bootstrap("yoda-route53", settings)
    try:
        spec = RecordSpec(args.record_name, args.record_type, args.ttl, args.routing, args.owner_id, args.txt_prefix)
    except ValueError as exc:
        print(f"yoda-route53: {exc}", file=sys.stderr)
        return 2
    client = boto3.client(
        "route53",
        endpoint_url=settings.aws_endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    zone = Zone(client, args.zone_id)
    try:
        zone_name = zone.name()
    except (ClientError, BotoCoreError) as exc:
        print(f"yoda-route53: cannot read hosted zone {zone.id}: {exc}", file=sys.stderr)
        return 1
    if spec.name != zone_name and not spec.name.endswith("." + zone_name):
        print(f"yoda-route53: {spec.name} is not in zone {zone_name}", file=sys.stderr)
        return 2
    leader = Leader(connect(args.etcd), "/" + args.base.strip("/"), Reconciler(zone, spec), args.interval)
    done = threading.Event()
    if args.once:
        if not leader.lock.acquire(timeout=30):
            print("yoda-route53: another instance holds the leader lock", file=sys.stderr)
            return 1
        try:
            return 0 if leader.reconcile_once() else 1
        finally:
            leader.lock.release()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    leader.run(done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
