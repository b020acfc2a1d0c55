"""`python -m totem.demo [--down]`: the same as `totem demo`."""
import sys

from totem.cli import main

sys.exit(main(["demo", *sys.argv[1:]]))
