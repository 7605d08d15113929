"""`python -m suiterun run ...`: the `suiterun` command from a checkout, without installing it."""

import sys

from suiterun.cli import main

sys.exit(main())
