"""What a run leaves behind: the report files, the log's result lines, the step outputs (the `results` JSON among
them), the job summary, annotations and the pull request comment, all written by `publish`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import Any

from suiterun.annotations import annotate_failures
from suiterun.clock import Clock
from suiterun.comment import post_comment
from suiterun.context import CIContext
from suiterun.errors import InputError
from suiterun.history import History, HistorySettings, comparison_line, new_first, update
from suiterun.render import SUMMARY_OUTPUT_LIMIT, SUMMARY_TEMPLATE, TemplateError, TemplateSource, render_summary
from suiterun.reports import write_reports
from suiterun.results import Outcome, RunStatus, TestStatus, Verdict, plural
from suiterun.settings import Reporting
from suiterun.text import format_duration
from suiterun.workflow import Workflow

# Step outputs share about 1 MiB per job. `results` gets at most this many bytes (and
# `summary` at most SUMMARY_OUTPUT_LIMIT), so two uses of the action in one job fit.
RESULTS_OUTPUT_LIMIT = 256 * 1024
NO_REPORTS = {"junit-file": "", "ctrf-file": ""}

# Puts a message naming inputs in the terms of the door the user came through.
Phrase = Callable[[str], str]


def publish(outcome: Outcome, *, workflow: Workflow, reporting: Reporting, clock: Clock, phrase: Phrase, history: History | None = None) -> Outcome:
    """Compare with the history and write it back, write the report files, log the result, set every output, write
    the job summary, annotate failures and comment. Returns the outcome, turned into an error when a report file or
    the user's template could not be written (its message in the door's terms, by `phrase`)."""
    # Secrets out of every text, once, before any of it is escaped, encoded or cut (the history file included).
    outcome = workflow.secrets.clean(outcome)
    context = workflow.context
    if reporting.history and history is not None:
        outcome = update_history(outcome, reporting.history, history, context, workflow)
    matrix = reporting.matrix
    try:
        reports = write_reports(outcome, reporting.reports, workspace=context.workspace, stop_ms=round(time.time() * 1000), redact=workflow.redact)
    except InputError as exc:
        reports = dict(NO_REPORTS)
        outcome = as_error(outcome, phrase(str(exc)), by_input=True)
    template = TemplateSource.choose(SUMMARY_TEMPLATE, reporting.summary_template, input_name="summary-template", workspace=context.workspace)
    try:
        summary = render_summary(outcome, context, template=template, matrix=matrix)
    except TemplateError as exc:
        # The built-in template still writes a summary, and it explains the error.
        outcome = as_error(outcome, phrase(str(exc)), by_input=True)
        template = TemplateSource.builtin(SUMMARY_TEMPLATE)
        summary = render_summary(outcome, context, matrix=matrix)
    summary_output = summary
    if SUMMARY_OUTPUT_LIMIT.measure(summary) > SUMMARY_OUTPUT_LIMIT.most:
        summary_output = render_summary(outcome, context, template=template, matrix=matrix, limit=SUMMARY_OUTPUT_LIMIT)

    log_result(outcome, workflow)
    workflow.set_outputs(step_outputs(outcome, summary_output, reports))
    if reporting.job_summary:
        workflow.write_summary(summary)
    annotate_failures(outcome, workflow, fail_on=reporting.fail_on)
    post_comment(outcome, reporting, workflow, clock=clock)
    return outcome


def update_history(outcome: Outcome, settings: HistorySettings, history: History, context: CIContext, workflow: Workflow) -> Outcome:
    """The outcome compared with the history, which is written back; a failure to write it is a warning of this run."""
    problems: list[str] = []
    compared = update(outcome, settings, history, context, problems.append)
    for problem in problems:
        workflow.warning(problem, title="History")
    return replace(compared, warnings=(*compared.warnings, *problems))


def log_result(outcome: Outcome, workflow: Workflow) -> None:
    """The result in plain lines: status and reason, counts, each failure with its message and link, the run's link."""
    counts = outcome.snapshot.counts
    workflow.info(f"{outcome.vendor}: {outcome.status.value} ({outcome.verdict.reason})")
    if counts.total:
        workflow.info(
            f"  {plural(counts.total, 'test')}: {counts.passed} passed, {counts.failed} failed, {counts.errored} errored, "
            f"{counts.skipped} skipped, {counts.pending} pending, in {format_duration(outcome.duration)}"
        )
    if outcome.comparison:
        workflow.info(f"  {comparison_line(outcome.comparison)}")
    for test in new_first(outcome.snapshot.failures):
        message = f": {test.message}" if test.message else ""
        link = f" {test.url}" if test.url else ""
        label = f" [{test.history}]" if test.history else ""
        workflow.info(f"  {test.status.value.upper()}{label} {test.name}{message}{link}")
    if outcome.snapshot.run_url:
        workflow.info(f"  Run: {outcome.snapshot.run_url}")


def step_outputs(outcome: Outcome, summary: str, reports: Mapping[str, str] = NO_REPORTS) -> dict[str, str]:
    counts = outcome.snapshot.counts
    return {
        "status": outcome.status.value,
        "total": str(counts.total),
        "passed": str(counts.passed),
        "failed": str(counts.failed),
        "errored": str(counts.errored),
        "skipped": str(counts.skipped),
        "pending": str(counts.pending),
        "run-ids": ",".join(outcome.snapshot.run_ids),
        "run-url": outcome.snapshot.run_url,
        "duration": str(round(outcome.duration)),
        "results": results_json(outcome),
        "summary": summary,
        "junit-file": reports["junit-file"],
        "ctrf-file": reports["ctrf-file"],
        "build-id": outcome.snapshot.build.build_id if outcome.snapshot.build else "",
        **history_outputs(outcome),
    }


def history_outputs(outcome: Outcome) -> dict[str, str]:
    """The counts against the baseline (0 without a history, but flaky: a pass on a retry is flaky without one too), and
    the failed tests by identity."""
    comparison = outcome.comparison
    tests = outcome.snapshot.tests
    return {
        "new-failures": str(comparison.new if comparison else 0),
        "known-failures": str(comparison.known if comparison else 0),
        "flaky": str(sum(test.history == "flaky" for test in tests)),
        "fixed": str(comparison.fixed if comparison else 0),
        "failed-tests": ",".join(dict.fromkeys(test.identity for test in tests if test.is_failure and test.identity)),
    }


def results_json(outcome: Outcome, limit: int = RESULTS_OUTPUT_LIMIT) -> str:
    """The `results` output. Over `limit` bytes, `tests` keeps the failed tests first and
    as many of the rest as fit; `tests_omitted` counts the ones left out (the report
    files and the vendor's run have them all)."""
    tests = [{key: value for key, value in asdict(test).items() if key != "details"} for test in outcome.snapshot.tests]
    results: dict[str, Any] = {
        "vendor": outcome.vendor,
        "status": outcome.status.value,
        "reason": outcome.verdict.reason,
        "counts": asdict(outcome.snapshot.counts),
        "run_ids": list(outcome.snapshot.run_ids),
        "run_url": outcome.snapshot.run_url,
        "problems": list(outcome.snapshot.problems),
        "tests": tests,
        "tests_omitted": 0,
    }

    def encoded(kept: list[dict[str, Any]]) -> str:
        return json.dumps(results | {"tests": kept, "tests_omitted": len(tests) - len(kept)}, separators=(",", ":"), ensure_ascii=False)

    text = encoded(tests)
    if len(text.encode("utf-8")) <= limit:
        return text
    failing = (TestStatus.FAILED, TestStatus.ERRORED)
    ordered = [test for test in tests if test["status"] in failing] + [test for test in tests if test["status"] not in failing]
    low, high = 0, len(ordered)  # the longest prefix that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if len(encoded(ordered[:middle]).encode("utf-8")) <= limit:
            low = middle
        else:
            high = middle - 1
    return encoded(ordered[:low])


def as_error(outcome: Outcome, message: str, *, by_input: bool = False) -> Outcome:
    return replace(outcome, verdict=Verdict(RunStatus.ERROR, message, by_input=by_input))
