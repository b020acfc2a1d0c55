"""`python -m totem.demo [--down]`: the same as `totem demo`."""
import argparse
import sys

from totem.demo import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="totem")
    commands = parser.add_subparsers(dest="command")
    cli.register(commands)
    args = parser.parse_args(["demo", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
