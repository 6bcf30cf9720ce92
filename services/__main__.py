"""`python -m services ...` is the `passage` command (for environments without the console script)."""

import sys

from services.cli import main

sys.exit(main())
