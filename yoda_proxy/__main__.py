"""`python -m yoda_proxy`."""

import sys

from yoda_proxy.cli import main

sys.exit(main())
