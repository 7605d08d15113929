"""The engine: trigger the vendor's run, wait for it within the timeout, and judge it. What is known so far stays in a
RunState, so that an error part-way (or a cancelled job) still reports it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from suiterun.clock import Clock, Deadline
from suiterun.http import VendorClient
from suiterun.polling import PollSchedule, ProgressLog, poll_until_done
from suiterun.registry import VendorAdapter
from suiterun.results import Outcome, Snapshot, TestStatus, Waited, judge, plural
from suiterun.retries import merge_round, to_retry
from suiterun.settings import Settings
from suiterun.workflow import Workflow


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
        base_url=settings.common.api_url,
        session=session,
        deadline=deadline,
        headers=adapter_class.auth_headers(settings.common.api_key),
        describe_error=adapter_class.describe_error,
        docs_url=adapter_class.docs_url,
        log=workflow.info,
        debug=workflow.http_debug,
        secrets=workflow.secrets,
    )
    reporter = RunReporter(workflow, state)
    adapter = adapter_class(client, settings.options, reporter)

    snapshot = state.snapshot = adapter.trigger()
    if snapshot.run_ids or snapshot.tests:
        link = f": {snapshot.run_url}" if snapshot.run_url else ""
        workflow.info(f"{vendor}: started {', '.join(snapshot.run_ids) or 'run'}{link}")

    waited = (Waited.POLLED if adapter_class.can_poll else Waited.IMPOSSIBLE) if settings.common.wait else Waited.NOT_ASKED
    timed_out = False
    if waited is Waited.POLLED:
        poller = Poller(adapter, deadline, schedule or PollSchedule(settings.poll_interval), clock, workflow, rng, state)
        snapshot, timed_out = poller.wait(snapshot, keep=True)
        if settings.retry_failed and not timed_out:
            snapshot, timed_out = retry_failures(poller, snapshot, rounds=settings.retry_failed, reporter=reporter)
    elif waited is Waited.IMPOSSIBLE:
        state.warnings.append(f"{vendor}'s API cannot report results, so the action reports what it started.")
    state.snapshot = snapshot

    verdict = judge(snapshot, vendor=vendor, waited=waited, timed_out_after=settings.timeout if timed_out else None, all_skipped=settings.all_skipped)
    if verdict.warning:
        reporter.warning(verdict.warning)
    return Outcome(vendor, verdict, snapshot, clock.monotonic() - state.started, tuple(state.warnings))


@dataclass
class Poller:
    """Reads what the adapter started (the run, or a round of retries) until it is done or the deadline passes."""

    adapter: VendorAdapter[Any]
    deadline: Deadline
    schedule: PollSchedule
    clock: Clock
    workflow: Workflow
    rng: random.Random
    state: RunState

    def wait(self, first: Snapshot, *, keep: bool) -> tuple[Snapshot, bool]:
        """The snapshot once done (with the adapter's details of its failures) or when the deadline passed, and whether
        it passed. `keep`: every read is what is known so far (the run's own reads; a retry's cover only some tests)."""
        vendor = self.adapter.title
        progress = ProgressLog(vendor, self.clock, self.workflow.info, next_read_within=self.schedule.longest_gap)

        def read(current: Snapshot) -> None:
            if keep:
                self.state.snapshot = current
            progress(current)

        def on_transient(message: str) -> None:
            self.workflow.info(f"{message} Will try again at the next poll.")

        polled = poll_until_done(
            self.adapter.poll, first=first, deadline=self.deadline, schedule=self.schedule, progress=read, on_transient=on_transient, rng=self.rng
        )
        if polled.last_error:
            self.state.warnings.append(f"The last status read failed: {polled.last_error}")
        if polled.snapshot.failures and not polled.timed_out:
            return self.adapter.add_details(polled.snapshot), False
        return polled.snapshot, polled.timed_out


# Failed tests named in the log line that starts a round of retries; the rest are counted.
MAX_NAMED_RETRIES = 10


def retry_failures(poller: Poller, snapshot: Snapshot, *, rounds: int, reporter: RunReporter) -> tuple[Snapshot, bool]:
    """Start the run's failed tests again, only those and each once a round, for up to `rounds` rounds while time is
    left, each polled to done and merged into the run (suiterun.retries). A test that passes on a retry is a warning.
    Returns the run and whether the deadline passed during a round (the tests still running stay as they were)."""
    vendor = poller.adapter.title
    for round_number in range(1, rounds + 1):
        failed = to_retry(snapshot.tests)
        if not failed or poller.deadline.expired():
            break
        names = ", ".join(test.name for test in failed[:MAX_NAMED_RETRIES]) + (
            f" and {len(failed) - MAX_NAMED_RETRIES} more" if len(failed) > MAX_NAMED_RETRIES else ""
        )
        reporter.info(f"{vendor}: retry {round_number} of {rounds}: starting {plural(len(failed), 'failed test')} again: {names}")
        again, timed_out = poller.wait(poller.adapter.retry(failed), keep=False)
        before, snapshot = snapshot, merge_round(snapshot, again)
        poller.state.snapshot = snapshot
        for was, test in zip(before.tests, snapshot.tests, strict=True):
            if was.is_failure and test.status is TestStatus.PASSED:
                reporter.warning(
                    f"Test '{test.name}' failed, then passed on retry {test.retries}: it counts as passed and is marked flaky "
                    f"(first failure: {test.attempts[0] or 'no message from the vendor'}).",
                    title="Flaky test",
                )
        if timed_out:
            reporter.note(
                f"The timeout came during retry {round_number}: the tests it started again that had not finished are as they were before it."
            )
            return snapshot, True
    return snapshot, False
