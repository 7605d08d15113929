"""Rendering the job summary from Jinja templates in a sandboxed environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from suiterun.polling import format_duration
from suiterun.results import Outcome, TestStatus
from suiterun.text import markdown_inline, safe_url
from suiterun.workflow import GitHubContext

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# Keyed by the value of a RunStatus or a TestStatus.
ICONS = {
    "passed": "✅",
    "failed": "❌",
    "errored": "⚠️",
    "error": "🛑",
    "timeout": "⏱️",
    "cancelled": "🚫",
    "triggered": "🚀",
    "skipped": "⏭️",
    "pending": "⏳",
}


def icon(status: str) -> str:
    return ICONS.get(str(status), "")


def duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(seconds)


def environment(directory: Path) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=False,  # Markdown, not HTML: vendor text is escaped by the `md` filter
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=markdown_inline, url=safe_url, duration=duration, icon=icon)
    return env


def template_context(outcome: Outcome, github: GitHubContext) -> dict[str, Any]:
    """The documented context every template (built-in or the user's) receives."""
    snapshot = outcome.snapshot
    tests = [dataclasses.asdict(test) for test in snapshot.tests]
    return {
        "vendor": outcome.vendor,
        "status": outcome.status.value,
        "reason": outcome.verdict.reason,
        "counts": dataclasses.asdict(snapshot.counts),
        "tests": tests,
        "failures": [test for test in tests if test["status"] in (TestStatus.FAILED, TestStatus.ERRORED)],
        "problems": list(snapshot.problems),
        "warnings": list(outcome.warnings),
        "run_ids": list(snapshot.run_ids),
        "run_url": snapshot.run_url,
        "duration": outcome.duration,
        "github": {
            "run_url": github.run_url,
            "run_attempt": github.run_attempt,
            "workflow": github.workflow,
            "job": github.job,
            "repository": github.repository,
            "sha": github.sha,
        },
    }


def render_summary(outcome: Outcome, github: GitHubContext) -> str:
    return environment(TEMPLATES_DIR).get_template("summary.md.j2").render(template_context(outcome, github))
