"""Run AI-driven test suites hosted by SaaS vendors from GitHub Actions, other CI systems and the command line."""

__version__ = "1.0.0"  # the release workflow checks that a tag vX.Y.Z matches it
