"""`totem logs APP [--follow] [--since 10m] [--version V] [--instance N] [--tail N] [--json]`: every
instance's lines merged in time order, each prefixed `<instance> | ` (coloured on a terminal), read by
the deployer from each instance's own Docker log; `totem logs BUILD_ID [--follow]` is a build's log."""

from __future__ import annotations

import json
import re
import sys

from image_factory.records import is_build_id
from totem_cli.ops import reading
from totem_cli.ops.output import command

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # an app's output never drives the terminal
COLOURS = ("36", "33", "35", "32", "34", "91", "96", "93", "95", "92")  # ANSI foreground colours
APP_ONLY = ("since", "version", "instance", "tail")


def register(subparsers) -> None:
    logs = subparsers.add_parser(
        "logs",
        help="an app's instance logs merged in time order (or a build's log); --follow streams them",
        description="APP: every instance's lines, prefixed with the instance (<version>-<sequence>-<n>). "
        "BUILD_ID (b<hex>): a build's log.",
    )
    logs.add_argument("target", metavar="APP|BUILD_ID")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines (until Ctrl-C)")
    logs.add_argument("--since", help="from this time: a duration ago (10m, 2h, 1d), Unix seconds or ISO 8601")
    logs.add_argument("--version", dest="version", help="only the instances of this version")
    logs.add_argument("--instance", help="one instance: its name as prefixed, its full node name, or N (the Nth)")
    logs.add_argument("--tail", type=int, help="lines per instance from the end (default 100; with --since all)")
    logs.add_argument("--json", action="store_true", help="the entries as JSON, one a line")
    logs.set_defaults(handler=_logs)


def _logs(args) -> int:
    if is_build_id(args.target) and not any(getattr(args, name) is not None for name in APP_ONLY):
        args.build_id = args.target
        return reading.logs(args)
    return _app_logs(args)


@command
def _app_logs(args, clients, settings) -> int:
    query = {k: getattr(args, k) for k in APP_ONLY}
    entries = clients.deployer.logs(args.target, follow=args.follow, **query)
    printer = Printer(sys.stdout.isatty())
    for entry in entries:
        if args.json:
            print(json.dumps(entry, sort_keys=True), flush=args.follow)
        else:
            print(printer.format(entry), flush=args.follow)
    return 0


class Printer:
    """`<instance> | <line>`, prefixes padded to the widest seen, one colour per instance on a tty."""

    def __init__(self, colour: bool):
        self.colour = colour
        self.width = 0
        self.colours: dict[str, str] = {}

    def format(self, entry: dict) -> str:
        instance = str(entry.get("instance") or entry.get("node") or "?")
        self.width = max(self.width, len(instance))
        prefix = f"{instance.ljust(self.width)} |"
        line = _CONTROL.sub("?", str(entry.get("line", "")))
        if not self.colour:
            return f"{prefix} {line}"
        code = self.colours.setdefault(instance, COLOURS[len(self.colours) % len(COLOURS)])
        return f"\x1b[{code}m{prefix}\x1b[0m {line}"
