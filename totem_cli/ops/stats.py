"""`totem stats [APP] [--window 30d] [--json]`: the delivery (DORA) figures per app and overall, from
the deployer (GET /metrics/delivery; docs/delivery-metrics.md defines them)."""

from __future__ import annotations

from totem_cli.ops.output import command, emit_json, table
from totem_dashboard.times import duration  # the dashboard's: 12.3 s, 4 min 05 s, 3 h 20 min, 2 d 04 h

HEADERS = ["APP", "DEPLOYS", "PER DAY", "LEAD TIME (MEDIAN)", "LEAD TIME (P90)", "FAILURE RATE", "RESTORE (MEDIAN)"]


def register(subparsers) -> None:
    stats = subparsers.add_parser("stats", help="delivery figures: deploy frequency, lead time, failure rate, restore")
    stats.add_argument("app", nargs="?", help="one app (default: every app, and overall)")
    stats.add_argument("--window", default="30d", help="how far back: 1h to 366d (default 30d)")
    stats.add_argument("--json", action="store_true", help="print the figures as the API gives them")
    stats.set_defaults(handler=_stats)


def row(name: str, figures: dict) -> list[str]:
    rate = figures["change_failure_rate"]
    return [
        name,
        f"{figures['deployments']} ({figures['failures']} failed)",
        f"{figures['deployment_frequency_per_day']:.2f}",
        duration(figures["lead_time_seconds"]["median"]),
        duration(figures["lead_time_seconds"]["p90"]),
        "-" if rate is None else f"{rate * 100:.0f}%",
        duration(figures["time_to_restore_seconds"]["median"]),
    ]


@command
def _stats(args, clients, settings) -> int:
    report = clients.deployer.delivery(app=args.app, window=args.window)
    if args.json:
        emit_json(report)
        return 0
    rows = [row(name, figures) for name, figures in report["apps"].items()]
    if not args.app:
        rows.append(row("(overall)", report["overall"]))
    window = report["window"]
    print(f"window {window['text']}: {window['start']} to {window['end']}")
    print(table(rows, HEADERS))
    return 0
