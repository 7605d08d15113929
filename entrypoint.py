"""The action's entrypoint: run it and exit with its code. With arguments it is the `suiterun` command instead, so the
image also serves CI systems that prefer images: `docker run IMAGE suiterun run --vendor ...`."""

import sys

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments:
        from suiterun.cli import main as command

        sys.exit(command(arguments[1:] if arguments[0] == "suiterun" else arguments))
    from suiterun.main import main

    sys.exit(main())
