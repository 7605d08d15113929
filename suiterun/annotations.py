"""One annotation per failed test, capped, so failures show on the run page and in the pull request's checks."""

from __future__ import annotations

from suiterun.history import Label, new_first
from suiterun.results import FailOn, Outcome, fails_step
from suiterun.workflow import Workflow

# GitHub keeps at most 10 error and 10 warning annotations per step and drops the
# rest; the 10th is left for the run's own `::error` line (status and reason).
MAX_TEST_ANNOTATIONS = 9


def annotate_failures(outcome: Outcome, workflow: Workflow, *, fail_on: FailOn) -> None:
    """`::error` per failed or errored test when the step fails, `::warning` when it does not (fail-on error or
    never, or a known or flaky failure with fail-on new-failures), new failures first; then one `::notice` counting
    the rest."""
    if not workflow.annotates_tests:
        return
    failures = new_first(outcome.snapshot.failures)
    step_fails = fails_step(outcome, fail_on)
    for test in failures[:MAX_TEST_ANNOTATIONS]:
        explained = fail_on is FailOn.NEW_FAILURES and test.history in (Label.KNOWN, Label.FLAKY)
        annotate = workflow.error if step_fails and not explained else workflow.warning
        message = test.message or "no message from the vendor"
        link = f" {test.url or outcome.snapshot.run_url}".rstrip()
        label = f" ({test.history} failure)" if test.history else ""
        annotate(f"{outcome.vendor} test {test.status.value}: {message}{link}", title=f"{test.name or '(unnamed test)'}{label}")
    more = len(failures) - MAX_TEST_ANNOTATIONS
    if more > 0:
        where = " ".join(url for url in (workflow.context.run_url, outcome.snapshot.run_url) if url)
        workflow.notice(
            f"{more} more failed {outcome.vendor} tests are not annotated; the job summary lists them. {where}".rstrip(),
            title=f"{outcome.vendor}: {more} more failures",
        )
