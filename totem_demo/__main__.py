"""`python -m totem_demo [--down]`: the same as `totem demo`."""

import sys

from totem_cli.main import main

sys.exit(main(["demo", *sys.argv[1:]]))
