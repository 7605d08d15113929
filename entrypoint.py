"""The action's entrypoint: run it and exit with its code."""

import sys

from suiterun.main import main

if __name__ == "__main__":
    sys.exit(main())
