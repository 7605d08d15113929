"""Rendering the job summary and the PR comment from Jinja templates (built-in or the user's), within GitHub's size limits."""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from suiterun.errors import InputError
from suiterun.polling import format_duration
from suiterun.results import Outcome, TestStatus
from suiterun.text import markdown_inline, one_line, safe_url
from suiterun.workflow import GitHubContext

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SUMMARY_TEMPLATE = "summary.md.j2"

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

# What a user's template can raise besides Jinja's own errors: `{{ 1 / 0 }}`,
# `{{ counts.total + "x" }}`, `{{ tests[99] }}`. Anything else is a bug in the action.
_USER_TEMPLATE_ERRORS = (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError)


class TemplateError(InputError):
    """The user's template cannot be loaded or rendered; the message names the input, file and line."""


@dataclass(frozen=True)
class SizeLimit:
    """The most GitHub accepts for one text, and how it counts."""

    most: int
    unit: str  # "bytes" (UTF-8) or "characters"

    def measure(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.unit == "bytes" else len(text)

    def cut(self, text: str, room: int) -> str:
        """The longest start of `text` that measures at most `room`."""
        if self.unit == "bytes":
            return text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
        return text[:room]


# GitHub drops a job summary over 1 MiB whole; keep a margin for the redaction and
# the newline the runner adds.
SUMMARY_LIMIT = SizeLimit(1_000_000, "bytes")
# GitHub rejects a comment body over 65,536 characters.
COMMENT_LIMIT = SizeLimit(65_000, "characters")
# Step outputs share about 1 MiB per job; the `summary` output is capped so that two
# instances of the action in one job still fit (see also RESULTS_OUTPUT_LIMIT in main).
SUMMARY_OUTPUT_LIMIT = SizeLimit(128 * 1024, "bytes")


@dataclass(frozen=True)
class TemplateSource:
    """Where a template comes from: a built-in file, or the user's file named by an input."""

    name: str  # the file name inside `directory` (posix path)
    directory: Path
    input: str = ""  # the input that named the user's file; "" for a built-in template

    @classmethod
    def builtin(cls, name: str) -> TemplateSource:
        return cls(name, TEMPLATES_DIR)

    @classmethod
    def choose(cls, builtin: str, user: Path | None, *, input_name: str, workspace: Path) -> TemplateSource:
        """The user's template when the input names one, else the built-in one."""
        if user is None:
            return cls.builtin(builtin)
        return cls(user.as_posix(), workspace.resolve(), input_name)


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


def load_template(source: TemplateSource) -> jinja2.Template:
    """Load and compile a template; a user's broken or missing file is one TemplateError line."""
    try:
        return environment(source.directory).get_template(source.name)
    except _USER_TEMPLATE_ERRORS as exc:
        if not source.input:
            raise
        raise _template_error(source, exc) from None


def renderer(source: TemplateSource) -> Callable[[dict[str, Any]], str]:
    """Load a template once and return a function rendering it; a user's template error is one TemplateError line."""
    template = load_template(source)

    def render_text(context: dict[str, Any]) -> str:
        try:
            return template.render(context)
        except _USER_TEMPLATE_ERRORS as exc:
            if not source.input:
                raise
            raise _template_error(source, exc, template.filename) from None

    return render_text


def render(source: TemplateSource, context: dict[str, Any]) -> str:
    """Render a template with the documented context (see `template_context`)."""
    return renderer(source)(context)


def _template_error(source: TemplateSource, exc: Exception, filename: str | None = None) -> TemplateError:
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(
            f"Input '{source.input}': the template '{source.name}' is not in the workspace; check the path and that the repository is checked out."
        )
    line = getattr(exc, "lineno", None) if isinstance(exc, jinja2.TemplateSyntaxError) else _template_line(exc, filename)
    where = f"{source.name} line {line}" if line else source.name
    message = one_line(getattr(exc, "message", None) or exc, limit=300).rstrip(".")
    return TemplateError(
        f"Input '{source.input}': {where}: {message} ({type(exc).__name__}). Fix the template, or remove the input to use the built-in one."
    )


def _template_line(exc: Exception, filename: str | None) -> int | None:
    # Jinja rewrites tracebacks so that frames of template code carry the template's
    # file name and line; the innermost such frame is where rendering failed.
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if filename and frame.filename == filename]
    return lines[-1] if lines else None


def template_context(outcome: Outcome, github: GitHubContext, *, matrix: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The documented context every template (built-in or the user's) receives (README: Custom templates)."""
    snapshot = outcome.snapshot
    tests = [dataclasses.asdict(test) for test in snapshot.tests]
    return {
        "vendor": outcome.vendor,
        "matrix": dict(matrix or {}),
        "status": outcome.status.value,
        "reason": outcome.verdict.reason,
        "counts": dataclasses.asdict(snapshot.counts),
        "tests": tests,
        "failures": [test for test in tests if _is_failure(test)],
        "omitted": {"tests": 0, "failures": 0},
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
            "step_id": github.step_id,
            "repository": github.repository,
            "sha": github.sha,
        },
    }


def _is_failure(test: dict[str, Any]) -> bool:
    return test["status"] in (TestStatus.FAILED, TestStatus.ERRORED)


def fit(render_text: Callable[[dict[str, Any]], str], context: dict[str, Any], limit: SizeLimit) -> str:
    """Render so that the text fits `limit`: in full when it fits; else with the failed
    tests first and the passed rows dropped; else with ever fewer rows and failure
    details. `omitted` tells the template how much it is not showing, so it can say
    so and link the vendor's run. A template that is too long even then is cut."""
    text = ""
    for shortened in _shortenings(context):
        text = render_text(shortened)
        if limit.measure(text) <= limit.most:
            return text
    link = f" Open the run: {context['run_url']}" if safe_url(context["run_url"]) else ""
    note = f"\n\n**Cut to fit GitHub's limit of {limit.most:,} {limit.unit}.**{link}\n"
    return limit.cut(text, limit.most - limit.measure(note)) + note


def _shortenings(context: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield context
    tests, failures = context["tests"], context["failures"]
    others = [test for test in tests if not _is_failure(test) and test["status"] != TestStatus.PASSED]
    unpassed = [test for test in tests if _is_failure(test)] + others
    keep = len(unpassed)
    while True:
        rows, detailed = unpassed[:keep], failures[:keep]
        omitted = {"tests": len(tests) - len(rows), "failures": len(failures) - len(detailed)}
        yield {**context, "tests": rows, "failures": detailed, "omitted": omitted}
        if keep == 0:
            return
        keep //= 2


def render_summary(
    outcome: Outcome,
    github: GitHubContext,
    *,
    template: TemplateSource | None = None,
    matrix: Mapping[str, Any] | None = None,
    limit: SizeLimit = SUMMARY_LIMIT,
) -> str:
    """The job summary from `template` (default: the built-in one), shortened to fit `limit`."""
    source = template or TemplateSource.builtin(SUMMARY_TEMPLATE)
    return fit(renderer(source), template_context(outcome, github, matrix=matrix), limit)
