"""The action: settings in, one vendor run, summary and outputs out. `main` is the only error boundary."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import requests

from suiterun.clock import Clock, Deadline, SystemClock
from suiterun.comment import CommentSettings, post_comment
from suiterun.errors import ActionError
from suiterun.http import VendorClient
from suiterun.inputs import Inputs
from suiterun.polling import ProgressLog, format_duration, poll_until_done
from suiterun.render import render_summary
from suiterun.results import Outcome, RunStatus, Snapshot, Verdict, fails_step, judge
from suiterun.settings import Settings
from suiterun.workflow import GitHubContext, Workflow


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


def step_outputs(outcome: Outcome, summary: str) -> dict[str, str]:
    counts = outcome.snapshot.counts
    results = {
        "vendor": outcome.vendor,
        "status": outcome.status.value,
        "reason": outcome.verdict.reason,
        "counts": asdict(counts),
        "run_ids": list(outcome.snapshot.run_ids),
        "run_url": outcome.snapshot.run_url,
        "problems": list(outcome.snapshot.problems),
        "tests": [{key: value for key, value in asdict(test).items() if key != "details"} for test in outcome.snapshot.tests],
    }
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
        "results": json.dumps(results, separators=(",", ":"), ensure_ascii=False),
        "summary": summary,
    }


def publish(outcome: Outcome, *, workflow: Workflow, job_summary: bool, comment: CommentSettings | None = None) -> None:
    """Log the result, set every output, write the job summary and the pull request comment."""
    for test in outcome.snapshot.failures:
        message = f": {test.message}" if test.message else ""
        workflow.info(f"  {test.status.value.upper()} {test.name}{message}")
    link = f" {outcome.snapshot.run_url}" if outcome.snapshot.run_url else ""
    workflow.info(f"{outcome.vendor}: {outcome.status.value} ({outcome.verdict.reason}){link}")
    summary = render_summary(outcome, workflow.context)
    workflow.set_outputs(step_outputs(outcome, summary))
    if job_summary:
        workflow.write_summary(summary)
    if comment is not None:
        post_comment(outcome, comment, workflow, job_summary=job_summary)


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
    job_summary = True
    fail_on = None
    comment: CommentSettings | None = None
    try:
        settings = Settings.from_environ(environ)
        job_summary, fail_on, comment = settings.job_summary, settings.fail_on, settings.comment
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
    except Exception as exc:  # a bug: still one line, a summary and outputs
        outcome = _error_outcome(state, f"Internal error ({type(exc).__name__}: {exc}). Please report it with this log.", clock)
    failing = fail_on is None or fails_step(outcome.status, fail_on)
    try:
        publish(outcome, workflow=workflow, job_summary=job_summary, comment=comment)
    except Exception as exc:
        workflow.error(f"Could not write the results ({type(exc).__name__}: {exc}).")
        return 1
    if failing or outcome.status is RunStatus.ERROR:
        workflow.error(outcome.verdict.reason, title=f"{outcome.vendor}: {outcome.status.value}")
    return 1 if failing else 0


def _error_outcome(state: RunState, message: str, clock: Clock | None) -> Outcome:
    elapsed = (clock or SystemClock()).monotonic() - state.started if state.started else 0.0
    return Outcome(state.vendor, Verdict(RunStatus.ERROR, message), state.snapshot, elapsed, tuple(state.warnings))
