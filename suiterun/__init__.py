"""Run AI-driven test suites hosted by SaaS vendors from GitHub Actions."""
