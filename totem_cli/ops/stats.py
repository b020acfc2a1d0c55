"""`totem stats [APP] [--window 30d] [--json]`: the delivery (DORA) figures per app and overall, from
the deployer (GET /metrics/delivery; docs/delivery-metrics.md defines them)."""

from __future__ import annotations

from totem_cli.ops.output import command, emit_json, table

HEADERS = ["APP", "DEPLOYS", "PER DAY", "LEAD TIME (MEDIAN)", "LEAD TIME (P90)", "FAILURE RATE", "RESTORE (MEDIAN)"]


def register(subparsers) -> None:
    stats = subparsers.add_parser("stats", help="delivery figures: deploy frequency, lead time, failure rate, restore")
    stats.add_argument("app", nargs="?", help="one app (default: every app, and overall)")
    stats.add_argument("--window", default="30d", help="how far back: 1h to 366d (default 30d)")
    stats.add_argument("--json", action="store_true", help="print the figures as the API gives them")
    stats.set_defaults(handler=_stats)


def duration(seconds: float | None) -> str:
    """12s, 4m05s, 3h20m, 2d04h: two units at most; "-" when there is nothing to measure."""
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    for unit, size, small, small_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if whole >= size:
            return f"{whole // size}{unit}{(whole % size) // small_size:02d}{small}"
    return f"{whole}s"


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
