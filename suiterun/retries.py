"""What a retry of failed tests makes of them (input retry-failed): the rule for one test, and for one round."""

from __future__ import annotations

from dataclasses import replace

from suiterun.history import Label
from suiterun.results import Snapshot, TestResult, TestStatus

# How a re-run can end that counts as an attempt: anything else (still pending when time ran out, skipped) did not run
# to an end, and leaves the test as it was.
ENDED = (TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERRORED)


def merge_retry(before: TestResult, again: TestResult) -> TestResult:
    """A failed test after one more re-run, `again` being how that re-run ended. Passed: the test is passed and
    flaky; failed or errored: it stays a failure. Either way the re-run is counted in `retries`, the failed attempt's
    message is kept in `attempts`, and the result (status, message, link, run id) is the re-run's; the test keeps its
    name, group and identity. A re-run that did not end leaves the test as it was."""
    if again.status not in ENDED:
        return before
    return replace(
        again,
        name=before.name,
        group=before.group,
        identity=before.identity,
        retries=before.retries + 1,
        attempts=(*before.attempts, before.message),
        history=Label.FLAKY.value if again.status is TestStatus.PASSED else before.history,
    )


def to_retry(tests: tuple[TestResult, ...]) -> tuple[TestResult, ...]:
    """The tests a round starts again: every failed or errored test with an identity, once per identity."""
    unique: dict[str, TestResult] = {}
    for test in tests:
        if test.is_failure and test.identity:
            unique.setdefault(test.identity, test)
    return tuple(unique.values())


def merge_round(snapshot: Snapshot, again: Snapshot) -> Snapshot:
    """The run after one round of retries: each failed test whose identity `again` reports, merged with it
    (merge_retry); every other test as it was. The round's runs join the run ids."""
    ended = {test.identity: test for test in again.tests if test.identity}
    tests = tuple(merge_retry(test, ended[test.identity]) if test.is_failure and test.identity in ended else test for test in snapshot.tests)
    return replace(snapshot, tests=tests, run_ids=tuple(dict.fromkeys((*snapshot.run_ids, *again.run_ids))))
