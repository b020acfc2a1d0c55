import sys

from yoda_route53.cli import main

sys.exit(main())
