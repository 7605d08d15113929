"""Rendering the job summary and the PR comment from Jinja templates (built-in or the user's), within GitHub's size limits."""

from __future__ import annotations

import dataclasses
import functools
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suiterun.concurrency import Overdue, call_within
from suiterun.context import CIContext
from suiterun.errors import InputError
from suiterun.history import new_first, pattern
from suiterun.results import BuildUnderTest, Detail, Outcome, RunStatus, Snapshot, TestResult, TestStatus, Verdict
from suiterun.text import format_duration, format_size, markdown_inline, one_line, safe_url

if TYPE_CHECKING:  # Jinja costs 25 ms to import: only when a template is rendered, after the trigger
    import jinja2

    from suiterun.jinja_sandbox import BoundedEnvironment


def _templates_dir() -> Path:
    # A checkout (the action, its image) keeps templates/ beside this package; the wheel installs them inside it.
    here = Path(__file__).resolve().parent
    return here / "templates" if (here / "templates").is_dir() else here.parent / "templates"


TEMPLATES_DIR = _templates_dir()
SUMMARY_TEMPLATE = "summary.md.j2"
# One render of a template (built-in or the user's) stops after this long or this much text: a
# template with runaway loops cannot hold up the step, and one that writes too much is cut.
RENDER_SECONDS = 5.0
RENDER_MAX_CHARACTERS = 2_000_000

# Keyed by the value of a RunStatus or a TestStatus.
ICONS = {
    "passed": "✅",
    "failed": "❌",
    "errored": "⚠️",
    "error": "🛑",
    "timeout": "⏱️",
    "cancelled": "🚫",
    "triggered": "🚀",
    "uploaded": "📦",
    "skipped": "⏭️",
    "pending": "⏳",
}


class TemplateError(InputError):
    """The user's template cannot be loaded or rendered; the message names the input, file and line."""


class RenderBudgetExceeded(Exception):
    """A render ran out of time (RENDER_SECONDS)."""


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


def environment(directory: Path) -> BoundedEnvironment:
    from suiterun.jinja_sandbox import bounded_environment  # noqa: PLC0415 - Jinja loads only when a template is rendered

    filters: dict[str, Callable[..., Any]] = {"md": markdown_inline, "url": safe_url, "duration": duration, "icon": icon, "pattern": pattern}
    return bounded_environment(directory, filters=filters)


@functools.lru_cache(maxsize=16)
def load_template(source: TemplateSource) -> jinja2.Template:
    """Load and compile a template, once per process (compiling takes most of a render's 30 ms); a user's broken or
    missing file is one TemplateError line (an error is not kept: the next call tries again)."""
    try:
        return environment(source.directory).get_template(source.name)
    except Exception as exc:
        if not source.input:
            raise
        raise _template_error(source, exc) from None


def renderer(source: TemplateSource) -> Callable[[dict[str, Any]], str]:
    """Load a template once and return a function rendering it within RENDER_SECONDS and
    RENDER_MAX_CHARACTERS. Any failure of a user's template is one TemplateError line."""
    template = load_template(source)
    bounded = template.environment

    def generate(context: dict[str, Any]) -> str:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(context):
            chunks.append(chunk)
            size += len(chunk)
            if size > RENDER_MAX_CHARACTERS:
                break  # more than any limit: the caller cuts it
            bounded.check_time()  # type: ignore[attr-defined]
        return "".join(chunks)

    def render_text(context: dict[str, Any]) -> str:
        bounded.render_ends = time.monotonic() + RENDER_SECONDS  # type: ignore[attr-defined]
        try:
            # In a thread of its own, so that even a loop that calls nothing cannot outlast the budget.
            return call_within(RENDER_SECONDS + 1, lambda: generate(context))
        except Exception as exc:  # a user's template: whatever it raised (RecursionError too) is a template error
            if not source.input:
                raise
            raise _template_error(source, exc, template.filename) from None

    return render_text


def render(source: TemplateSource, context: dict[str, Any]) -> str:
    """Render a template with the documented context (see `template_context`)."""
    return renderer(source)(context)


def check_template(source: TemplateSource, github: CIContext) -> None:
    """Load the user's template and render it once with sample results, so a template that cannot work
    (a syntax error, a missing include, a misspelt name) stops the step before any vendor run starts."""
    render(source, template_context(SAMPLE_OUTCOME, github, matrix={"sample": "value"}))


def _template_error(source: TemplateSource, exc: Exception, filename: str | None = None) -> TemplateError:
    import jinja2  # noqa: PLC0415

    if isinstance(exc, jinja2.TemplateNotFound):
        missing = exc.name if isinstance(exc.name, str) else source.name
        if missing == source.name:
            return TemplateError(
                f"Input '{source.input}': the template '{source.name}' is not in the workspace; "
                "check the path and that the repository is checked out."
            )
        line = _template_line(exc, filename)
        where = f"{source.name} line {line}" if line else source.name
        return TemplateError(
            f"Input '{source.input}': {where} includes '{missing}', which is not in the workspace; "
            "include paths are relative to the workspace, and the file must be checked out."
        )
    if isinstance(exc, Overdue):
        exc = RenderBudgetExceeded(f"rendering took longer than {RENDER_SECONDS:g}s")
    line = getattr(exc, "lineno", None) if isinstance(exc, jinja2.TemplateSyntaxError) else _template_line(exc, filename)
    where = f"{source.name} line {line}" if line else source.name
    if isinstance(exc, RecursionError):
        message = "it calls itself without end (maximum recursion depth exceeded)"
    else:
        message = one_line(getattr(exc, "message", None) or exc, limit=300).rstrip(".")
    return TemplateError(
        f"Input '{source.input}': {where}: {message} ({type(exc).__name__}). Fix the template, or remove the input to use the built-in one."
    )


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    # Jinja rewrites tracebacks so that frames of template code carry the template's
    # file name and line; the innermost such frame is where rendering failed.
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if filename and frame.filename == filename]
    return lines[-1] if lines else None


def template_context(outcome: Outcome, github: CIContext, *, matrix: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The documented context every template (built-in or the user's) receives (docs/reporting.md: Custom templates)."""
    snapshot = outcome.snapshot
    tests = [dataclasses.asdict(test) for test in snapshot.tests]
    return {
        "vendor": outcome.vendor,
        "matrix": dict(matrix or {}),
        "status": outcome.status.value,
        "reason": outcome.verdict.reason,
        "counts": dataclasses.asdict(snapshot.counts),
        "tests": tests,
        "failures": [dataclasses.asdict(test) for test in new_first(snapshot.failures)],  # new failures first
        "comparison": dataclasses.asdict(outcome.comparison) if outcome.comparison else None,
        "omitted": {"tests": 0, "failures": 0},
        "problems": list(snapshot.problems),
        "warnings": list(outcome.warnings),
        "run_ids": list(snapshot.run_ids),
        "run_url": snapshot.run_url,
        "build": _build(snapshot.build),
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


def _build(build: BuildUnderTest | None) -> dict[str, Any] | None:
    if build is None:
        return None
    size = format_size(build.size) if build.size is not None else ""
    return {**dataclasses.asdict(build), "is_url": build.is_url, "size_text": size}


def _is_failure(test: dict[str, Any]) -> bool:
    return test["status"] in (TestStatus.FAILED, TestStatus.ERRORED)


def fit(render_text: Callable[[dict[str, Any]], str], context: dict[str, Any], limit: SizeLimit) -> str:
    """Render so that the text fits `limit`: in full when it fits; else without inline
    screenshots (their links stay); else with the failed tests first and the passed rows
    dropped; else with ever fewer rows and failure details. `omitted` tells the template
    how much it is not showing, so it can say so and link the vendor's run. A template
    that is too long even then is cut."""
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
    if any(detail["image"] for test in context["failures"] for detail in test["details"]):
        context = {**context, "tests": _without_images(context["tests"]), "failures": _without_images(context["failures"])}
        yield context
    tests, failures = context["tests"], context["failures"]
    others = [test for test in tests if not _is_failure(test) and test["status"] != TestStatus.PASSED]
    unpassed = failures + others  # new failures first
    keep = len(unpassed)
    while True:
        rows, detailed = unpassed[:keep], failures[:keep]
        omitted = {"tests": len(tests) - len(rows), "failures": len(failures) - len(detailed)}
        yield {**context, "tests": rows, "failures": detailed, "omitted": omitted}
        if keep == 0:
            return
        keep //= 2


def _without_images(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**test, "details": [{**detail, "image": ""} for detail in test["details"]]} for test in tests]


def render_summary(
    outcome: Outcome,
    github: CIContext,
    *,
    template: TemplateSource | None = None,
    matrix: Mapping[str, Any] | None = None,
    limit: SizeLimit = SUMMARY_LIMIT,
) -> str:
    """The job summary from `template` (default: the built-in one), shortened to fit `limit`."""
    source = template or TemplateSource.builtin(SUMMARY_TEMPLATE)
    return fit(renderer(source), template_context(outcome, github, matrix=matrix), limit)


# What a user's template is rendered with before the run starts (check_template): one test of each kind.
SAMPLE_OUTCOME = Outcome(
    "Sample vendor",
    Verdict(RunStatus.FAILED, "1 of 3 tests failed"),
    Snapshot(
        (
            TestResult("Sample passed test", TestStatus.PASSED, id="t-1", url="https://vendor.example/t/1", duration=12.0, group="Smoke"),
            TestResult(
                "Sample failed test",
                TestStatus.FAILED,
                id="t-2",
                url="https://vendor.example/t/2",
                duration=30.5,
                message="Expected a confirmation.",
                group="Smoke",
                details=(Detail("Failing step", "Tap 'Pay'", "https://vendor.example/t/2/shot.png", image="https://vendor.example/t/2/shot.png"),),
            ),
            TestResult("Sample skipped test", TestStatus.SKIPPED, id="t-3"),
        ),
        done=True,
        run_ids=("run-1",),
        run_url="https://vendor.example/runs/1",
        problems=("A sample run-level problem",),
    ),
    42.0,
    ("A sample warning",),
)
