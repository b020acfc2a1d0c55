import sys

from totem_cli.main import main

sys.exit(main())
