"""`yoda-route53`: publishes the live proxy nodes as Route53 record sets."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yoda-route53", description=__doc__)
    parser.add_argument("--zone-id")
    parser.add_argument("--record-name")
    parser.parse_args(argv)
    print("yoda-route53: not available yet", file=sys.stderr)
    return 2
