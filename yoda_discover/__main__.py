import sys

from yoda_discover.cli import main

sys.exit(main())
