"""The one place that decides a run's status, and when the step fails."""

from __future__ import annotations

import pytest

from suiterun.results import AllSkipped, FailOn, RunStatus, Snapshot, TestResult, TestStatus, Verdict, Waited, fails_step, judge

P, F, E, S, W = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERRORED, TestStatus.SKIPPED, TestStatus.PENDING


def judged(snapshot: Snapshot, *, waited: bool, timed_out: bool, all_skipped: AllSkipped = AllSkipped.ERROR) -> Verdict:
    """judge() after polling (or with wait: false), and with the 30 minutes of `timeout` passed or not."""
    return judge(
        snapshot,
        vendor="Acme",
        waited=Waited.POLLED if waited else Waited.NOT_ASKED,
        timed_out_after=1800 if timed_out else None,
        all_skipped=all_skipped,
    )


def snap(*statuses: TestStatus, done: bool = True, problems: tuple[str, ...] = (), cancelled: bool = False) -> Snapshot:
    tests = tuple(TestResult(f"t{n}", status) for n, status in enumerate(statuses))
    return Snapshot(tests, done=done, run_ids=("r1",), problems=problems, cancelled=cancelled)


@pytest.mark.parametrize(
    ("snapshot", "waited", "timed_out", "status", "reason"),
    [
        (snap(P, P), True, False, RunStatus.PASSED, "2 tests passed"),
        (snap(P, S), True, False, RunStatus.PASSED, "1 test passed, 1 skipped"),
        (snap(P, F, E), True, False, RunStatus.FAILED, "2 of 3 tests failed"),
        (snap(P, problems=("group 'Smoke' ended in 'error'",)), True, False, RunStatus.FAILED, "group 'Smoke' ended in 'error'"),
        (snap(F, problems=("x",)), True, False, RunStatus.FAILED, "1 of 1 test failed; x"),
        (snap(), True, False, RunStatus.ERROR, "no tests ran: the vendor reported no test"),
        (snap(S, S), True, False, RunStatus.ERROR, "no tests ran"),
        (snap(P, W), True, False, RunStatus.ERROR, "1 test never finished"),
        (snap(P, W, done=False), True, True, RunStatus.TIMEOUT, "timed out with 1 of 2 tests finished, 0 failed after 30m00s (input 'timeout')"),
        (snap(F, W, done=False), True, True, RunStatus.TIMEOUT, "1 failed"),
        (snap(P, cancelled=True), True, False, RunStatus.CANCELLED, "cancelled"),
        (snap(W, W, done=False), False, False, RunStatus.TRIGGERED, "started 2 runs; not waiting for results (wait: false)"),
        (snap(W, done=False, problems=("plan 7 failed to start",)), False, False, RunStatus.FAILED, "plan 7 failed to start"),
    ],
)
def test_judge(snapshot: Snapshot, waited: bool, timed_out: bool, status: RunStatus, reason: str) -> None:
    verdict = judged(snapshot, waited=waited, timed_out=timed_out)
    assert verdict.status is status
    assert reason in verdict.reason
    assert verdict.warning == ""


@pytest.mark.parametrize(
    ("snapshot", "waited", "status", "reason"),
    [
        (snap(S, S), True, RunStatus.PASSED, "every one of 2 tests skipped, which all-skipped: pass accepts"),
        (snap(S), True, RunStatus.PASSED, "the only test skipped"),
        # The vendor's first answer already skipped everything (Test-Lab): nothing is left to wait for.
        (snap(S, S), False, RunStatus.PASSED, "every one of 2 tests skipped"),
    ],
)
def test_all_skipped_pass_lets_a_run_whose_every_test_was_skipped_pass_with_a_warning(
    snapshot: Snapshot, waited: bool, status: RunStatus, reason: str
) -> None:
    verdict = judged(snapshot, waited=waited, timed_out=False, all_skipped=AllSkipped.PASS)
    assert verdict.status is status
    assert reason in verdict.reason
    assert "No test ran" in verdict.warning and "all-skipped is pass" in verdict.warning


@pytest.mark.parametrize(
    ("snapshot", "waited", "timed_out", "status"),
    [
        (snap(), True, False, RunStatus.ERROR),  # no test at all is never a pass
        (snap(S, F), True, False, RunStatus.FAILED),
        (snap(S, W), True, False, RunStatus.ERROR),
        (snap(S, S, problems=("x",)), True, False, RunStatus.FAILED),
        (snap(S, S, cancelled=True), True, False, RunStatus.CANCELLED),
        (snap(S, W, done=False), True, True, RunStatus.TIMEOUT),
        (snap(S, W, done=False), False, False, RunStatus.TRIGGERED),
        (snap(S, S, problems=("plan 7 failed to start",)), False, False, RunStatus.FAILED),
    ],
)
def test_all_skipped_pass_changes_nothing_else(snapshot: Snapshot, waited: bool, timed_out: bool, status: RunStatus) -> None:
    verdict = judged(snapshot, waited=waited, timed_out=timed_out, all_skipped=AllSkipped.PASS)
    assert verdict.status is status
    assert verdict.warning == ""


def test_a_vendor_that_cannot_report_results_says_so() -> None:
    verdict = judge(snap(W, done=False), vendor="Test-Lab", waited=Waited.IMPOSSIBLE)
    assert (verdict.status, verdict.reason) == (RunStatus.TRIGGERED, "started 1 run; Test-Lab's API cannot report results")


def test_by_default_a_run_whose_every_test_was_skipped_is_an_error_that_names_the_input() -> None:
    for waited in (True, False):
        verdict = judged(snap(S, S), waited=waited, timed_out=False)
        assert verdict.status is RunStatus.ERROR
        assert verdict.reason == "no tests ran: the vendor skipped every one of 2 tests (all-skipped: pass would let such a run pass)"


@pytest.mark.parametrize(
    ("status", "fail_on", "fails"),
    [
        (RunStatus.PASSED, FailOn.FAILURE, False),
        (RunStatus.TRIGGERED, FailOn.FAILURE, False),
        (RunStatus.FAILED, FailOn.FAILURE, True),
        (RunStatus.CANCELLED, FailOn.FAILURE, True),
        (RunStatus.TIMEOUT, FailOn.FAILURE, True),
        (RunStatus.ERROR, FailOn.FAILURE, True),
        (RunStatus.FAILED, FailOn.ERROR, False),
        (RunStatus.CANCELLED, FailOn.ERROR, False),
        (RunStatus.ERROR, FailOn.ERROR, True),
        (RunStatus.TIMEOUT, FailOn.ERROR, True),
        (RunStatus.ERROR, FailOn.NEVER, False),
        (RunStatus.FAILED, FailOn.NEVER, False),
    ],
)
def test_fails_step(status: RunStatus, fail_on: FailOn, fails: bool) -> None:
    assert fails_step(status, fail_on) is fails


def test_counts_and_failures() -> None:
    snapshot = snap(P, F, E, S, W, W)
    counts = snapshot.counts
    assert (counts.total, counts.passed, counts.failed, counts.errored, counts.skipped, counts.pending) == (6, 1, 1, 1, 1, 2)
    assert [test.name for test in snapshot.failures] == ["t1", "t2"]
