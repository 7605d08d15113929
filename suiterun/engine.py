"""The engine: trigger the vendor's run, wait for it within the timeout, and judge it. What is known so far stays in a
RunState, so that an error part-way (or a cancelled job) still reports it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import requests

from suiterun.clock import Clock, Deadline
from suiterun.http import VendorClient
from suiterun.polling import PollSchedule, ProgressLog, poll_until_done
from suiterun.results import Outcome, Snapshot, Waited, judge, plural
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
    elif waited is Waited.IMPOSSIBLE:
        state.warnings.append(f"{vendor}'s API cannot report results, so the action reports what it started.")
    state.snapshot = snapshot

    verdict = judge(snapshot, vendor=vendor, waited=waited, timed_out_after=settings.timeout if timed_out else None, all_skipped=settings.all_skipped)
    if verdict.warning:
        reporter.warning(verdict.warning)
    return Outcome(vendor, verdict, snapshot, clock.monotonic() - state.started, tuple(state.warnings))
