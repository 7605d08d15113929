"""The normalized result model shared by every vendor, and the one place that judges a run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from suiterun.text import format_duration


class TestStatus(StrEnum):
    """The status of one test, whatever words the vendor uses."""

    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"
    ERRORED = "errored"
    SKIPPED = "skipped"
    PENDING = "pending"


class RunStatus(StrEnum):
    """The overall status of the action's run (the `status` output)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    TRIGGERED = "triggered"
    UPLOADED = "uploaded"  # a build was uploaded or registered, and nothing was asked to run


# The statuses that never fail the step.
GREEN = (RunStatus.PASSED, RunStatus.TRIGGERED, RunStatus.UPLOADED)


class FailOn(StrEnum):
    """When the step fails (the `fail-on` input)."""

    FAILURE = "failure"
    ERROR = "error"
    NEVER = "never"


class AllSkipped(StrEnum):
    """What a run whose every reported test was skipped ends in (the `all-skipped` input)."""

    ERROR = "error"
    PASS = "pass"


@dataclass(frozen=True)
class Detail:
    """One line of vendor detail about a test: a summary, an issue, the failing step."""

    label: str
    text: str
    url: str = ""
    image: str = ""  # a screenshot to show inline (linking to `url`), where the vendor gives one


@dataclass(frozen=True)
class BuildUnderTest:
    """The build the action put under test before running anything: a file it uploaded, or a URL it registered."""

    name: str  # the file's name, or the URL
    build_id: str = ""  # the vendor's id for it ("" when the vendor gave none)
    size: int | None = None  # bytes, for a file
    commit_sha: str = ""
    branch: str = ""

    @property
    def is_url(self) -> bool:
        return self.name.startswith(("http://", "https://"))


@dataclass(frozen=True)
class TestResult:
    """One test as the vendor reported it. Every text field is untrusted vendor text."""

    __test__ = False  # not a pytest test class

    name: str
    status: TestStatus
    id: str = ""
    url: str = ""
    duration: float | None = None  # seconds
    message: str = ""
    group: str = ""
    details: tuple[Detail, ...] = ()

    @property
    def is_failure(self) -> bool:
        return self.status in (TestStatus.FAILED, TestStatus.ERRORED)


@dataclass(frozen=True)
class Counts:
    total: int
    passed: int
    failed: int
    errored: int
    skipped: int
    pending: int


@dataclass(frozen=True)
class Snapshot:
    """What the vendor reported at one point in time.

    `problems` are run-level failures that belong to no single test (a group
    whose setup failed, a job that failed to start); any problem fails the run.
    """

    tests: tuple[TestResult, ...] = ()
    done: bool = False
    run_ids: tuple[str, ...] = ()
    run_url: str = ""
    problems: tuple[str, ...] = ()
    cancelled: bool = False
    build: BuildUnderTest | None = None

    @property
    def counts(self) -> Counts:
        by_status = Counter(test.status for test in self.tests)
        return Counts(
            total=len(self.tests),
            passed=by_status[TestStatus.PASSED],
            failed=by_status[TestStatus.FAILED],
            errored=by_status[TestStatus.ERRORED],
            skipped=by_status[TestStatus.SKIPPED],
            pending=by_status[TestStatus.PENDING],
        )

    @property
    def failures(self) -> tuple[TestResult, ...]:
        return tuple(test for test in self.tests if test.is_failure)


@dataclass(frozen=True)
class Verdict:
    status: RunStatus
    reason: str  # one line, shown in the log and the summary
    by_input: bool = False  # an `error` caused by an input (exit code 2), not by the vendor
    warning: str = ""  # what a pass by `all-skipped: pass` must still say (a warning in the log and the summary)


@dataclass(frozen=True)
class Outcome:
    """The judged end of one action run: what the summary, outputs and exit code come from."""

    vendor: str  # display name, e.g. "Autosana"
    verdict: Verdict
    snapshot: Snapshot = field(default_factory=Snapshot)
    duration: float = 0.0  # seconds from start to the end of waiting
    warnings: tuple[str, ...] = ()

    @property
    def status(self) -> RunStatus:
        return self.verdict.status


class Waited(StrEnum):
    """Whether the action read the run's results."""

    POLLED = "polled"  # it read them until the run was done or the deadline passed
    NOT_ASKED = "not asked"  # `wait: false`: it reports what it started
    IMPOSSIBLE = "impossible"  # the vendor's API cannot report results: it reports what it started


def judge(
    snapshot: Snapshot,
    *,
    vendor: str,
    waited: Waited,
    timed_out_after: float | None = None,
    all_skipped: AllSkipped = AllSkipped.ERROR,
) -> Verdict:
    """Decide the overall status, and say why. A run passes only when the vendor says it is
    done, at least one test ran, and nothing failed, errored or stayed pending; or, with
    `all_skipped` PASS, when it reported tests and skipped every one. `timed_out_after`:
    the `timeout` (seconds) that passed before the run was done, if it did."""
    counts = snapshot.counts
    failed = counts.failed + counts.errored
    every_test_skipped = counts.total > 0 and counts.skipped == counts.total
    if snapshot.build and not (snapshot.run_ids or snapshot.tests):
        build = snapshot.build
        what = f"registered {build.name}" if build.is_url else f"uploaded {build.name}"
        return Verdict(RunStatus.UPLOADED, f"{what}{f' as build {build.build_id}' if build.build_id else ''}; no tests, suites or labels to run")
    if waited is not Waited.POLLED:
        if snapshot.problems:
            return Verdict(RunStatus.FAILED, "; ".join(snapshot.problems))
        if every_test_skipped:  # nothing is left to run: the vendor's answer is final
            return _skipped_verdict(counts.total, all_skipped)
        started = max(counts.total, len(snapshot.run_ids))
        why = "not waiting for results (wait: false)" if waited is Waited.NOT_ASKED else f"{vendor}'s API cannot report results"
        return Verdict(RunStatus.TRIGGERED, f"started {plural(started, 'run')}; {why}")
    if timed_out_after is not None:
        finished = counts.total - counts.pending
        return Verdict(
            RunStatus.TIMEOUT,
            f"timed out with {finished} of {plural(counts.total, 'test')} finished, {failed} failed "
            f"after {format_duration(timed_out_after)} (input 'timeout')",
        )
    if snapshot.cancelled:
        return Verdict(RunStatus.CANCELLED, "the vendor reports the run as cancelled")
    if failed or snapshot.problems:
        reasons = [f"{failed} of {plural(counts.total, 'test')} failed"] if failed else []
        return Verdict(RunStatus.FAILED, "; ".join([*reasons, *snapshot.problems]))
    if counts.pending:
        return Verdict(RunStatus.ERROR, f"the vendor reports the run complete but {plural(counts.pending, 'test')} never finished")
    if every_test_skipped:
        return _skipped_verdict(counts.total, all_skipped)
    if not counts.total:
        return Verdict(RunStatus.ERROR, "no tests ran: the vendor reported no test")
    skipped = f", {counts.skipped} skipped" if counts.skipped else ""
    return Verdict(RunStatus.PASSED, f"{plural(counts.passed, 'test')} passed{skipped}")


def _skipped_verdict(total: int, all_skipped: AllSkipped) -> Verdict:
    every = "the only test" if total == 1 else f"every one of {total} tests"
    if all_skipped is AllSkipped.PASS:
        reason = f"{every} skipped, which all-skipped: pass accepts"
        return Verdict(RunStatus.PASSED, reason, warning=f"No test ran: the vendor skipped {every}; the run passes because all-skipped is pass.")
    return Verdict(RunStatus.ERROR, f"no tests ran: the vendor skipped {every} (all-skipped: pass would let such a run pass)")


def fails_step(status: RunStatus, fail_on: FailOn) -> bool:
    if fail_on is FailOn.NEVER:
        return False
    if fail_on is FailOn.ERROR:
        return status in (RunStatus.ERROR, RunStatus.TIMEOUT)
    return status not in GREEN


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
