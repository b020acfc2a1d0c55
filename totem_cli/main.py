"""The `totem` command."""

from __future__ import annotations

import argparse
import logging
import sys

from totem import __version__, logs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="totem", description="Totem continuous delivery")
    parser.add_argument("--version", action="version", version=f"totem {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    from orchestrator import config_cli
    from totem_cli import ops
    from totem_cluster import cli as cluster_cli
    from totem_demo import cli as demo_cli
    from totem_stack import cli as stack_cli

    stack_cli.register(commands)
    cluster_cli.register(commands)
    config_cli.register(commands)
    ops.register(commands)
    demo_cli.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.bootstrap("totem", level=logging.WARNING)  # commands print their results; logs carry only trouble
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
