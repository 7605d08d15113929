"""The engine every door runs: settings in, one vendor run, summary and outputs out.

`execute` is the only error boundary. The doors are thin: `main` (the action, from
entrypoint.py) and `suiterun.cli` (the `suiterun run` command) each build the
environment and the Workflow to report to, and call it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import IntEnum
from typing import Any

import requests

from suiterun.clock import Clock, Deadline, SystemClock
from suiterun.errors import ActionError, InputError, TimeoutReached
from suiterun.http import VendorClient
from suiterun.inputs import Inputs
from suiterun.polling import PollSchedule, ProgressLog, format_duration, poll_until_done
from suiterun.registry import ADAPTERS
from suiterun.results import GREEN, Outcome, RunStatus, Snapshot, TestStatus, Verdict, fails_step, judge, plural
from suiterun.settings import Settings
from suiterun.workflow import GitHubContext, Workflow, reporting_to

# Step outputs share about 1 MiB per job. `results` gets at most this many bytes (and
# `summary` at most SUMMARY_OUTPUT_LIMIT), so two uses of the action in one job fit.
RESULTS_OUTPUT_LIMIT = 256 * 1024
NO_REPORTS = {"junit-file": "", "ctrf-file": ""}


# Puts a message naming inputs in the terms of the door the user came through.
Phrase = Callable[[str], str]


def as_written(message: str) -> str:
    """The action's own terms: inputs, as a workflow file names them."""
    return message


class ExitCode(IntEnum):
    """The same for every door (README: Exit codes)."""

    OK = 0  # passed, triggered or uploaded, or fail-on says the step passes
    FAILED = 1  # the run failed by fail-on: failed tests, cancelled
    INPUT = 2  # a usage or input error
    ERROR = 3  # a vendor, network or timeout error


@dataclass
class RunState:
    """What is known so far, so that an error part-way still reports it."""

    vendor: str = "Vendor tests"
    snapshot: Snapshot = field(default_factory=Snapshot)
    warnings: list[str] = field(default_factory=list)
    started: float = 0.0


# GitHub shows at most 10 warning annotations of a step. Past this many warnings of one kind (one title), the rest
# are plain log lines, and the summary counts them.
MAX_WARNINGS_PER_KIND = 10


@dataclass
class RunReporter:
    """What an adapter reports to: the workflow, with every warning also kept for the summary (capped per kind)."""

    workflow: Workflow
    state: RunState
    warned: Counter[str] = field(default_factory=Counter)  # warnings seen per title
    counted_at: dict[str, int] = field(default_factory=dict)  # per title: where the summary counts the rest

    def mask(self, secret: str) -> None:
        self.workflow.mask(secret)

    def info(self, line: str) -> None:
        self.workflow.info(line)

    def warning(self, message: str, *, title: str = "") -> None:
        self.warned[title] += 1
        if self.warned[title] <= MAX_WARNINGS_PER_KIND:
            self.state.warnings.append(message)
            self.workflow.warning(message, title=title)
            return
        self.workflow.info(f"Warning{f' ({title})' if title else ''}: {message}")
        rest = self.warned[title] - MAX_WARNINGS_PER_KIND
        note = f"{plural(rest, 'more warning')}{f' ({title})' if title else ''} in the log only."
        if title not in self.counted_at:
            self.counted_at[title] = len(self.state.warnings)
            self.state.warnings.append(note)
        self.state.warnings[self.counted_at[title]] = note

    def note(self, message: str) -> None:
        self.state.warnings.append(message)
        self.workflow.info(message)


def run_action(
    settings: Settings,
    *,
    session: requests.Session,
    clock: Clock,
    workflow: Workflow,
    rng: random.Random,
    state: RunState,
    schedule: PollSchedule | None = None,
) -> Outcome:
    """Trigger the vendor's run, wait for it within the timeout, and judge it."""
    adapter_class = settings.adapter
    vendor = adapter_class.title
    state.vendor = vendor
    state.started = clock.monotonic()
    deadline = Deadline.after(clock, settings.timeout)
    client = VendorClient(
        vendor=vendor,
        base_url=settings.api_url,
        session=session,
        deadline=deadline,
        headers=adapter_class.auth_headers(settings.api_key),
        describe_error=adapter_class.describe_error,
        log=workflow.info,
        secrets=workflow.secrets,
    )
    reporter = RunReporter(workflow, state)
    adapter = adapter_class(client, settings.options, reporter)

    snapshot = state.snapshot = adapter.trigger()
    if snapshot.run_ids or snapshot.tests:
        link = f": {snapshot.run_url}" if snapshot.run_url else ""
        workflow.info(f"{vendor}: started {', '.join(snapshot.run_ids) or 'run'}{link}")

    waited = settings.wait and adapter_class.can_poll
    timed_out = False
    if waited:

        def remember(current: Snapshot) -> None:
            state.snapshot = current
            progress(current)

        def on_transient(message: str) -> None:
            workflow.info(f"{message} Will try again at the next poll.")

        schedule = schedule or PollSchedule(settings.poll_interval)
        progress = ProgressLog(vendor, clock, workflow.info, next_read_within=schedule.longest_gap)
        polled = poll_until_done(
            adapter.poll,
            first=snapshot,
            deadline=deadline,
            schedule=schedule,
            progress=remember,
            on_transient=on_transient,
            rng=rng,
        )
        snapshot, timed_out = polled.snapshot, polled.timed_out
        if polled.last_error:
            state.warnings.append(f"The last status read failed: {polled.last_error}")
        if snapshot.failures and not timed_out:
            snapshot = adapter.add_details(snapshot)
    elif settings.wait:
        state.warnings.append(f"{vendor}'s API cannot report results, so the action reports what it started.")
    state.snapshot = snapshot

    not_waiting = "not waiting for results (wait: false)" if not settings.wait else f"{vendor}'s API cannot report results"
    verdict = judge(snapshot, waited=waited, timed_out=timed_out, not_waiting=not_waiting, all_skipped=settings.all_skipped)
    if verdict.warning:
        reporter.warning(verdict.warning)
    if timed_out:
        verdict = Verdict(verdict.status, f"{verdict.reason} after {format_duration(settings.timeout)} (input 'timeout')")
    return Outcome(vendor, verdict, snapshot, clock.monotonic() - state.started, tuple(state.warnings))


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


def publish(outcome: Outcome, *, workflow: Workflow, settings: Settings | None, clock: Clock, phrase: Phrase = as_written) -> Outcome:
    """Write the report files, log the result, set every output, write the job summary,
    annotate failures and comment. Returns the outcome, turned into an error when a
    report file or the user's template could not be written (its message in the door's terms, by `phrase`)."""
    from suiterun.annotations import annotate_failures  # noqa: PLC0415 - reporting modules load after the run (start-up time)
    from suiterun.comment import post_comment  # noqa: PLC0415
    from suiterun.render import SUMMARY_OUTPUT_LIMIT, SUMMARY_TEMPLATE, TemplateError, TemplateSource, render_summary  # noqa: PLC0415
    from suiterun.reports import write_reports  # noqa: PLC0415

    # Secrets out of every text, once, before any of it is escaped, encoded or cut.
    outcome = workflow.secrets.clean(outcome)
    context = workflow.context
    matrix = settings.comment.matrix if settings else {}
    reports = dict(NO_REPORTS)
    if settings:
        try:
            reports = write_reports(outcome, settings.reports, workspace=context.workspace, stop_ms=round(time.time() * 1000), redact=workflow.redact)
        except InputError as exc:
            outcome = _as_error(outcome, phrase(str(exc)), by_input=True)
    user_template = settings.summary_template if settings else None
    template = TemplateSource.choose(SUMMARY_TEMPLATE, user_template, input_name="summary-template", workspace=context.workspace)
    try:
        summary = render_summary(outcome, context, template=template, matrix=matrix)
    except TemplateError as exc:
        # The built-in template still writes a summary, and it explains the error.
        outcome = _as_error(outcome, phrase(str(exc)), by_input=True)
        template = TemplateSource.builtin(SUMMARY_TEMPLATE)
        summary = render_summary(outcome, context, matrix=matrix)
    summary_output = summary
    if SUMMARY_OUTPUT_LIMIT.measure(summary) > SUMMARY_OUTPUT_LIMIT.most:
        summary_output = render_summary(outcome, context, template=template, matrix=matrix, limit=SUMMARY_OUTPUT_LIMIT)

    log_result(outcome, workflow)
    workflow.set_outputs(step_outputs(outcome, summary_output, reports))
    job_summary = settings.job_summary if settings else True
    if job_summary:
        workflow.write_summary(summary)
    annotate_failures(outcome, workflow, step_fails=step_fails(outcome, settings))
    if settings is not None:
        post_comment(outcome, settings.comment, workflow, clock=clock, job_summary=job_summary, template=settings.comment_template)
    return outcome


def log_result(outcome: Outcome, workflow: Workflow) -> None:
    """The result in plain lines: status and reason, counts, each failure with its message and link, the run's link."""
    counts = outcome.snapshot.counts
    workflow.info(f"{outcome.vendor}: {outcome.status.value} ({outcome.verdict.reason})")
    if counts.total:
        workflow.info(
            f"  {plural(counts.total, 'test')}: {counts.passed} passed, {counts.failed} failed, {counts.errored} errored, "
            f"{counts.skipped} skipped, {counts.pending} pending, in {format_duration(outcome.duration)}"
        )
    for test in outcome.snapshot.failures:
        message = f": {test.message}" if test.message else ""
        link = f" {test.url}" if test.url else ""
        workflow.info(f"  {test.status.value.upper()} {test.name}{message}{link}")
    if outcome.snapshot.run_url:
        workflow.info(f"  Run: {outcome.snapshot.run_url}")


def step_fails(outcome: Outcome, settings: Settings | None) -> bool:
    """Invalid settings always fail the step; otherwise `fail-on` decides."""
    return settings is None or fails_step(outcome.status, settings.fail_on)


def exit_code(outcome: Outcome, settings: Settings | None) -> ExitCode:
    if settings is None or outcome.verdict.by_input:
        return ExitCode.INPUT if step_fails(outcome, settings) else ExitCode.OK
    if not step_fails(outcome, settings):
        return ExitCode.OK
    if outcome.status in (RunStatus.FAILED, RunStatus.CANCELLED):
        return ExitCode.FAILED
    return ExitCode.ERROR


def _as_error(outcome: Outcome, message: str, *, by_input: bool = False) -> Outcome:
    return replace(outcome, verdict=Verdict(RunStatus.ERROR, message, by_input=by_input))


def execute(
    environ: Mapping[str, str],
    workflow: Workflow,
    *,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    phrase: Phrase = as_written,
) -> ExitCode:
    """Run once and return the exit code. Every failure ends here as one error line,
    a summary and `status=error`, never a traceback. `phrase` puts an input error in
    the door's terms (the command's options, not the action's inputs)."""
    clock = clock or SystemClock()
    inputs = Inputs(environ)
    # Before anything else is printed. A key too short to be real is refused below, not masked.
    workflow.mask(inputs.get("api-key"))
    workflow.mask(inputs.get("github-token"))
    state = RunState(vendor=_vendor_title(inputs))
    settings: Settings | None = None
    # A cancelled job stops the step with SIGINT or SIGTERM: both end the wait
    # below as KeyboardInterrupt, so the summary and outputs are still written.
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        settings = Settings.from_environ(environ)
        outcome = run_action(settings, session=session or requests.Session(), clock=clock, workflow=workflow, rng=rng or random.Random(), state=state)
    except TimeoutReached as exc:
        outcome = _error_outcome(state, str(exc), clock, status=RunStatus.TIMEOUT)
    except ActionError as exc:
        by_input = isinstance(exc, InputError)
        outcome = _error_outcome(state, phrase(str(exc)) if by_input else str(exc), clock, by_input=by_input)
    except KeyboardInterrupt:
        message = "The job was cancelled while the action was running; the vendor's run may still be going."
        outcome = _error_outcome(state, message, clock, status=RunStatus.CANCELLED)
    except Exception as exc:  # a bug: still one line, a summary and outputs
        outcome = _error_outcome(state, f"Internal error ({type(exc).__name__}: {exc}). Please report it with this log.", clock)
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    try:
        outcome = publish(outcome, workflow=workflow, settings=settings, clock=clock, phrase=phrase)
    except Exception as exc:
        workflow.error(f"Could not write the results ({type(exc).__name__}: {exc}).")
        return ExitCode.ERROR
    title = f"{outcome.vendor}: {outcome.status.value}"
    if step_fails(outcome, settings):
        workflow.error(outcome.verdict.reason, title=title)
    elif outcome.status not in GREEN:  # fail-on let it pass: visible, but not red
        workflow.warning(outcome.verdict.reason, title=title)
    return exit_code(outcome, settings)


def main(
    environ: Mapping[str, str] = os.environ,
    *,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> int:
    """The action's door: inputs from INPUT_* variables, results to the runner (or, outside
    GitHub Actions, to the terminal, without workflow commands)."""
    return int(execute(environ, reporting_to(GitHubContext.from_environ(environ)), session=session, clock=clock, rng=rng))


def _vendor_title(inputs: Inputs) -> str:
    """The vendor's name for messages, when the `vendor` input names one (even if other inputs are wrong)."""
    adapter = ADAPTERS.get(inputs.get("vendor").lower())
    return adapter.title if adapter else RunState.vendor


def _error_outcome(state: RunState, message: str, clock: Clock, *, status: RunStatus = RunStatus.ERROR, by_input: bool = False) -> Outcome:
    elapsed = clock.monotonic() - state.started if state.started else 0.0
    return Outcome(state.vendor, Verdict(status, message, by_input=by_input), state.snapshot, elapsed, tuple(state.warnings))
