"""`yoda-discover`: registers healthy app instances and announces proxy nodes in etcd."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yoda-discover", description=__doc__)
    parser.add_argument("mode", nargs="?", default="watch", choices=["watch", "register", "presence"])
    args = parser.parse_args(argv)
    print(f"yoda-discover: mode {args.mode!r} is not available yet", file=sys.stderr)
    return 2
