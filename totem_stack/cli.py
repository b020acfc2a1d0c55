"""`totem stack up | down | status [--only etcd,redis,...]`."""

from __future__ import annotations

import argparse
import json
import sys

from totem.settings import load_or_exit
from totem_stack import manager, services
from totem_stack.services import StackHome


def parse_only(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in services.NAMES]
    if unknown or not names:
        choices = ",".join(services.NAMES)
        raise argparse.ArgumentTypeError(f"unknown service {', '.join(unknown) or value!r}; choose from {choices}")
    return names


def register(subparsers: argparse._SubParsersAction) -> None:
    stack = subparsers.add_parser(
        "stack", help="run the local stack of real services (etcd, redis, docker, registry, moto, prometheus)"
    )
    actions = stack.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    up = actions.add_parser("up", help="install what is missing, start what is not running")
    up.add_argument("--timeout", type=float, metavar="SECONDS", help="how long each service may take to become healthy")
    up.set_defaults(handler=_up)
    down = actions.add_parser("down", help="stop what `up` started (never external services)")
    down.set_defaults(handler=_down)
    status = actions.add_parser("status", help="one line per service; exit 1 unless all are up")
    status.add_argument("--json", action="store_true", help="print a JSON list")
    status.set_defaults(handler=_status)
    for action in (up, down, status):
        action.add_argument(
            "--only",
            type=parse_only,
            default=(),
            metavar="NAMES",
            help=f"comma-separated subset of {','.join(services.NAMES)}",
        )


def _selected(args: argparse.Namespace) -> tuple[list[services.Service], StackHome]:
    settings = load_or_exit("totem stack")
    return services.build(settings, args.only), StackHome.of(settings)


def _up(args: argparse.Namespace) -> int:
    selected, home = _selected(args)
    return manager.up(selected, home, sys.stdout, timeout=args.timeout)


def _down(args: argparse.Namespace) -> int:
    selected, home = _selected(args)
    return manager.down(selected, home, sys.stdout)


def _status(args: argparse.Namespace) -> int:
    selected, home = _selected(args)
    states = manager.status(selected, home)
    if args.json:
        print(json.dumps([state.as_dict(home) for state in states], indent=2))
    else:
        print(manager.format_status(states))
    return 0 if all(state.healthy for state in states) else 1
