"""Run AI-driven test suites hosted by SaaS vendors from GitHub Actions, other CI systems and the command line."""

__version__ = "1.0.0"  # the one place the version is written: `python3 scripts/release.py prepare` changes it
