"""The action: settings in, one vendor run, summary and outputs out. `main` is the only error boundary."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import requests

from suiterun.annotations import annotate_failures
from suiterun.clock import Clock, Deadline, SystemClock
from suiterun.comment import post_comment
from suiterun.errors import ActionError, InputError
from suiterun.http import VendorClient
from suiterun.inputs import Inputs
from suiterun.polling import ProgressLog, format_duration, poll_until_done
from suiterun.render import SUMMARY_OUTPUT_LIMIT, SUMMARY_TEMPLATE, TemplateError, TemplateSource, render_summary
from suiterun.reports import write_reports
from suiterun.results import Outcome, RunStatus, Snapshot, TestStatus, Verdict, fails_step, judge
from suiterun.settings import Settings
from suiterun.workflow import GitHubContext, Workflow

# Step outputs share about 1 MiB per job. `results` gets at most this many bytes (and
# `summary` at most SUMMARY_OUTPUT_LIMIT), so two uses of the action in one job fit.
RESULTS_OUTPUT_LIMIT = 256 * 1024
NO_REPORTS = {"junit-file": "", "ctrf-file": ""}


@dataclass
class RunState:
    """What is known so far, so that an error part-way still reports it."""

    vendor: str = "Vendor tests"
    snapshot: Snapshot = field(default_factory=Snapshot)
    warnings: list[str] = field(default_factory=list)
    started: float = 0.0


def run_action(settings: Settings, *, session: requests.Session, clock: Clock, workflow: Workflow, rng: random.Random, state: RunState) -> Outcome:
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
    )
    adapter = adapter_class(client, settings.options, workflow)

    snapshot = state.snapshot = adapter.trigger()
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

        progress = ProgressLog(vendor, clock, workflow.info)
        polled = poll_until_done(
            adapter.poll,
            first=snapshot,
            deadline=deadline,
            interval=settings.poll_interval,
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

    verdict = judge(snapshot, waited=waited, timed_out=timed_out)
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


def publish(outcome: Outcome, *, workflow: Workflow, settings: Settings | None) -> Outcome:
    """Write the report files, log the result, set every output, write the job summary,
    annotate failures and comment. Returns the outcome, turned into an error when a
    report file or the user's template could not be written."""
    context = workflow.context
    matrix = settings.comment.matrix if settings else {}
    reports = dict(NO_REPORTS)
    if settings:
        try:
            reports = write_reports(outcome, settings.reports, workspace=context.workspace, stop_ms=round(time.time() * 1000), redact=workflow.redact)
        except InputError as exc:
            outcome = _as_error(outcome, str(exc))
    user_template = settings.summary_template if settings else None
    template = TemplateSource.choose(SUMMARY_TEMPLATE, user_template, input_name="summary-template", workspace=context.workspace)
    try:
        summary = render_summary(outcome, context, template=template, matrix=matrix)
    except TemplateError as exc:
        # The built-in template still writes a summary, and it explains the error.
        outcome = _as_error(outcome, str(exc))
        template = TemplateSource.builtin(SUMMARY_TEMPLATE)
        summary = render_summary(outcome, context, matrix=matrix)
    summary_output = summary
    if SUMMARY_OUTPUT_LIMIT.measure(summary) > SUMMARY_OUTPUT_LIMIT.most:
        summary_output = render_summary(outcome, context, template=template, matrix=matrix, limit=SUMMARY_OUTPUT_LIMIT)

    for test in outcome.snapshot.failures:
        message = f": {test.message}" if test.message else ""
        workflow.info(f"  {test.status.value.upper()} {test.name}{message}")
    link = f" {outcome.snapshot.run_url}" if outcome.snapshot.run_url else ""
    workflow.info(f"{outcome.vendor}: {outcome.status.value} ({outcome.verdict.reason}){link}")
    workflow.set_outputs(step_outputs(outcome, summary_output, reports))
    job_summary = settings.job_summary if settings else True
    if job_summary:
        workflow.write_summary(summary)
    annotate_failures(outcome, workflow, step_fails=step_fails(outcome, settings))
    if settings is not None:
        post_comment(outcome, settings.comment, workflow, job_summary=job_summary, template=settings.comment_template)
    return outcome


def step_fails(outcome: Outcome, settings: Settings | None) -> bool:
    """Invalid settings always fail the step; otherwise `fail-on` decides."""
    return settings is None or fails_step(outcome.status, settings.fail_on)


def _as_error(outcome: Outcome, message: str) -> Outcome:
    return replace(outcome, verdict=Verdict(RunStatus.ERROR, message))


def main(
    environ: Mapping[str, str] = os.environ,
    *,
    session: requests.Session | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> int:
    """Run the action and return its exit code. Every failure ends here as one
    `::error::` line, a summary and `status=error`, never a traceback."""
    workflow = Workflow(GitHubContext.from_environ(environ))
    workflow.mask(Inputs(environ).get("api-key"))  # before anything else is printed
    workflow.mask(Inputs(environ).get("github-token"))
    state = RunState()
    settings: Settings | None = None
    # A cancelled job stops the container with SIGINT or SIGTERM: both end the wait
    # below as KeyboardInterrupt, so the summary and outputs are still written.
    previous_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        settings = Settings.from_environ(environ)
        outcome = run_action(
            settings,
            session=session or requests.Session(),
            clock=clock or SystemClock(),
            workflow=workflow,
            rng=rng or random.Random(),
            state=state,
        )
    except ActionError as exc:
        outcome = _error_outcome(state, str(exc), clock)
    except KeyboardInterrupt:
        message = "The job was cancelled while the action was running; the vendor's run may still be going."
        outcome = _error_outcome(state, message, clock, status=RunStatus.CANCELLED)
    except Exception as exc:  # a bug: still one line, a summary and outputs
        outcome = _error_outcome(state, f"Internal error ({type(exc).__name__}: {exc}). Please report it with this log.", clock)
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    try:
        outcome = publish(outcome, workflow=workflow, settings=settings)
    except Exception as exc:
        workflow.error(f"Could not write the results ({type(exc).__name__}: {exc}).")
        return 1
    failing = step_fails(outcome, settings)
    if failing or outcome.status is RunStatus.ERROR:
        workflow.error(outcome.verdict.reason, title=f"{outcome.vendor}: {outcome.status.value}")
    return 1 if failing else 0


def _error_outcome(state: RunState, message: str, clock: Clock | None, status: RunStatus = RunStatus.ERROR) -> Outcome:
    elapsed = (clock or SystemClock()).monotonic() - state.started if state.started else 0.0
    return Outcome(state.vendor, Verdict(status, message), state.snapshot, elapsed, tuple(state.warnings))
