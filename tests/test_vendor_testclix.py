"""TestCLIX: the contract table against the sandbox, the exact requests, stale statuses and the 401/403/404 messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pytest
import requests

from sandbox.server import SandboxServer
from sandbox.testclix import DENY, scenario_test_id
from suiterun import results
from suiterun.errors import VendorError
from suiterun.http import VendorClient
from suiterun.results import TestStatus
from tests.contract import Case, check_case, run_case
from tests.support import RecordingReporter, run_in_process, sandbox_url
from vendors import testclix

ID1, ID2, ID3, ID4 = (scenario_test_id(n) for n in range(1, 5))
FOUR = {"tests": f"{ID1},{ID2}\n{ID3},{ID4}"}

CASES = [
    Case("pass", "passed", 0, {"total": 2, "passed": 2, "failed": 0, "errored": 0, "pending": 0}),
    Case("flaky-tests", "failed", 1, {"total": 2, "failed": 2}, in_summary=("Failed on its first execution",)),
    # A failed test's message is what GET /v1/api/status/details lists for it.
    Case(
        "mixed",
        "failed",
        1,
        {"total": 4, "passed": 2, "failed": 2, "pending": 0},
        inputs=FOUR,
        in_summary=(
            "TestCLIX reports the test failed: Checkout with expired card - Expected the error 'Card expired'",
            "TestCLIX reports the test failed: Reset password - The app crashed while opening the reset screen.",
        ),
    ),
    Case(
        "unrunnable",
        "failed",
        1,
        {"total": 2, "passed": 1, "errored": 1},
        in_summary=("'not recorded'", "was not executed: TestCLIX says"),
    ),
    Case("unknown-status", "timeout", 3, {"total": 2, "passed": 1, "pending": 1}, in_log=("weird-new-state",)),
    Case("never", "timeout", 3, {"pending": 2}, in_summary=("processing",)),
    # Over before the first read, with the same word as the run before: the execute's `queued` says it is this run's.
    Case("quick", "passed", 0, {"total": 2, "passed": 2}),
    # The execute answers `acknowledged` and the first read shows the last run's `pass`: only a visible start makes it count.
    Case("stale", "passed", 0, {"total": 2, "passed": 2}),
    Case("empty", "error", 3, in_log=(f"HTTP 404: Scenario doesn't exists to the status of test '{ID1}': there is no such test",)),
    Case("limit", "error", 3, in_log=("HTTP 403: Execution limit exceeded", "Test Execution package")),
    Case("wrong-key", "error", 3, in_log=("rejected the API key (HTTP 403: User is not authorized",)),
    Case("unrunnable", "failed", 1, {"errored": 1}, inputs={"wait": "false"}, in_summary=("not recorded",)),
    # "Failures to alarm" above 1: the failed run still reads `pass`. The action cannot see it, and every summary says so.
    Case("alarm-threshold", "passed", 0, {"total": 2, "passed": 2}),
    # An acknowledged error that a run leaves acknowledged: a passing run would have turned it to `pass`.
    Case("acknowledged", "failed", 1, {"total": 2, "passed": 1, "failed": 1}, in_summary=("still shows 'acknowledged' after this run",)),
    # Checks that never ran: `not executed` is a test at rest, not an unknown word nor a refusal to run.
    Case("first-run", "passed", 0, {"total": 2, "passed": 2}),
    # A run that leaves the test at rest (`recorded`) says nothing of how it ended: errored, never a pass, no timeout.
    Case("skipped", "failed", 1, {"total": 1, "errored": 1}, inputs={"tests": ID1}, in_summary=("TestCLIX shows 'recorded' after this run",)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_contract(case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("testclix", case, sandbox, tmp_path)
    # Every TestCLIX summary says what the verdict assumes, once, and without an annotation.
    assert run.summary.count("This verdict assumes 'Failures to alarm' is 1 for these tests") == 1
    assert "Failures to alarm" not in "".join(line for line in run.log.splitlines() if line.startswith("::warning"))
    assert "does not know" not in run.log or case.scenario == "unknown-status"


def test_requests_are_url_encoded_read_before_execute_and_per_test(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("testclix", Case("mixed", "failed", 1, inputs=FOUR), sandbox, tmp_path)
    encoded = [quote(test_id, safe="") for test_id in (ID1, ID2, ID3, ID4)]
    assert all("%26" in path for path in encoded)
    calls = [(r["method"], r["path"]) for r in run.requests]
    # Before anything runs, one status read per test (the baseline), then one execute each, in order.
    assert sorted(calls[:4]) == sorted(("GET", f"/v1/api/status/{path}") for path in encoded)
    assert calls[4:8] == [("POST", f"/v1/api/execute/{path}") for path in encoded]
    assert all(r["headers"]["x-api-key"] == "sandbox-mixed" and r["body"] is None for r in run.requests)
    # Then each status round reads every test still pending exactly once (two rounds here: processing, then the result),
    # and the failed tests' details are read once at the end.
    reads = [path for method, path in calls[8:] if method == "GET"]
    assert sorted(reads[:-1]) == sorted([f"/v1/api/status/{path}" for path in encoded] * 2)
    assert reads[-1] == "/v1/api/status/details"
    # Concurrent reads never mix results up: each test keeps its own outcome.
    by_id = {test["id"]: test["status"] for test in run.results["tests"]}
    assert by_id == {ID1: "passed", ID2: "failed", ID3: "failed", ID4: "passed"}
    assert run.outputs["run-ids"] == ",".join((ID1, ID2, ID3, ID4))
    assert run.outputs["run-url"] == ""


def test_a_stale_result_is_not_taken_for_this_runs(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("testclix", Case("stale", "passed", 0), sandbox, tmp_path)
    # Per test: the baseline read, then the stale `pass` (not accepted), `processing`, and the result.
    assert len(run.requests_to("GET", "/v1/api/status/")) == 2 * 4


def test_trigger_retried_after_503_executes_each_test_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    emulator = sandbox.emulators["testclix"]
    before = emulator.runs_created
    run = check_case("testclix", Case("pass+trigger503", "passed", 0), sandbox, tmp_path)
    assert len(run.requests_to("POST", "/v1/api/execute/")) == 3
    assert emulator.runs_created - before == 2


def test_not_recorded_test_is_never_executed(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("testclix", Case("unrunnable", "failed", 1), sandbox, tmp_path)
    assert [r["path"] for r in run.requests_to("POST", "/v1/api/execute/")] == [f"/v1/api/execute/{quote(ID2, safe='')}"]


def test_wait_false_executes_without_reading(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("testclix", Case("pass", "triggered", 0, {"pending": 2}, inputs={"wait": "false"}), sandbox, tmp_path)
    assert [r["method"] for r in run.requests] == ["POST", "POST"]


def test_missing_tests_input(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("testclix", Case("pass", "error", 2, inputs={"tests": " , "}), sandbox, tmp_path)
    assert "TestCLIX needs input 'tests'" in run.log
    assert run.requests == []


class _Reads:
    """A stand-in client that answers status reads from a script, one word per read."""

    def __init__(self, words: list[str]) -> None:
        self.words = words

    def get(self, path: str, *, what: str) -> dict[str, Any]:
        return {"status": self.words.pop(0)}


@pytest.mark.parametrize(
    ("before", "reads", "expected"),
    [
        ("pass", ["pass"], TestStatus.PENDING),  # the execute said nothing of a start, and this may be the old result: wait
        ("pass", ["pass", "processing", "pass"], TestStatus.PASSED),  # visibly ran, then passed
        ("pass", ["queued", "pass"], TestStatus.PASSED),
        ("error", ["pass"], TestStatus.PASSED),  # a different result is this run's
        ("pass", ["error"], TestStatus.FAILED),
        ("error", ["error"], TestStatus.PENDING),
        ("recorded", ["pass"], TestStatus.PASSED),  # never ran before: any result is new
        ("", ["valid"], TestStatus.PENDING),
        ("processing", ["pass"], TestStatus.PENDING),  # an earlier run was still going: its result may come first
        ("queued", ["queued", "error"], TestStatus.FAILED),
        ("pass", ["acknowledged"], TestStatus.PENDING),
        ("pass", ["processing", "not recorded"], TestStatus.ERRORED),
        ("not executed", ["not executed", "processing", "pass"], TestStatus.PASSED),
        # After this run visibly started, a word at rest is what the docs give it: acknowledged = did not pass.
        ("acknowledged", ["processing", "acknowledged"], TestStatus.FAILED),
        ("valid", ["queued", "valid"], TestStatus.ERRORED),
        ("recorded", ["processing", "recorded"], TestStatus.ERRORED),
        ("pass", ["processing", "not executed"], TestStatus.ERRORED),
    ],
)
def test_without_a_queued_execute_a_result_counts_only_once_it_can_be_this_runs(before: str, reads: list[str], expected: TestStatus) -> None:
    adapter = testclix.TestClixAdapter(cast(VendorClient, _Reads(list(reads))), testclix.TestClixOptions((ID1,), wait=True), RecordingReporter())
    adapter.tracked = [testclix.TrackedTest(results.TestResult(ID1, TestStatus.PENDING, id=ID1), before=before)]
    for _ in reads:
        snapshot = adapter.poll()
    assert snapshot.tests[0].status is expected
    if expected is TestStatus.PENDING and reads[-1] in ("pass", "error"):
        assert "may be from before this run" in snapshot.tests[0].message


@pytest.mark.parametrize("word", ["pass", "error"])
def test_after_a_queued_execute_the_first_result_is_this_runs(word: str) -> None:
    adapter = testclix.TestClixAdapter(cast(VendorClient, _Reads([word])), testclix.TestClixOptions((ID1,), wait=True), RecordingReporter())
    adapter.tracked = [testclix.TrackedTest(results.TestResult(ID1, TestStatus.PENDING, id=ID1), before=word, started=True)]
    assert adapter.poll().tests[0].status is (TestStatus.PASSED if word == "pass" else TestStatus.FAILED)


def test_after_a_queued_execute_acknowledged_is_a_failure_and_valid_cannot_be_judged() -> None:
    adapter = testclix.TestClixAdapter(
        cast(VendorClient, _Reads(["acknowledged", "valid"])), testclix.TestClixOptions((ID1, ID2), wait=True), RecordingReporter()
    )
    adapter.tracked = [testclix.TrackedTest(results.TestResult(i, TestStatus.PENDING, id=i), before="acknowledged", started=True) for i in (ID1, ID2)]
    assert [test.status for test in adapter.poll().tests] == [TestStatus.FAILED, TestStatus.ERRORED]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"status": "pass", "tests": {"error": {"count": 0, "items": []}}}, {}),  # the docs' example
        ({"tests": {"error": {"items": [{"test_id": ID1, "name": "Login", "message": "Timed out"}]}}}, {ID1: "Login - Timed out"}),
        ({"tests": {"error": {"items": [{"TestId": ID1, "Reason": "DNS", "count": 3}]}}}, {ID1: "DNS"}),
        ({"tests": {"error": {"items": [{"id": ID1, "error": "x", "message": "x"}]}}}, {ID1: "x"}),  # said twice, shown once
        ({"tests": {"error": {"items": [{"id": ID1, "title": "y" * 3000}]}}}, {ID1: "y" * 2000}),
        ({"tests": {"error": {"items": [ID1, {"name": "no id"}, {"id": ID2}, {"id": 5, "name": "n"}, None]}}}, {}),
        ({"tests": {"error": {"items": "none"}}}, {}),
        ({"tests": []}, {}),
        ("<html>", {}),
    ],
)
def test_status_details_items_are_read_tolerantly(body: object, found: dict[str, str]) -> None:
    assert testclix.error_items(body) == found


class _FailingDetails(_Reads):
    def get(self, path: str, *, what: str) -> dict[str, Any]:
        if path.endswith("/details"):
            raise VendorError("TestCLIX answered HTTP 500 to the status details.")
        return super().get(path, what=what)


def test_unreadable_status_details_leave_the_verdict_and_warn() -> None:
    reporter = RecordingReporter()
    adapter = testclix.TestClixAdapter(cast(VendorClient, _FailingDetails(["error"])), testclix.TestClixOptions((ID1,), wait=True), reporter)
    adapter.tracked = [testclix.TrackedTest(results.TestResult(ID1, TestStatus.PENDING, id=ID1), before="pass", started=True)]
    snapshot = adapter.add_details(adapter.poll())
    assert snapshot.tests[0].status is TestStatus.FAILED and "status 'error'" in snapshot.tests[0].message
    assert reporter.warnings == ["Could not read TestCLIX's status details: TestCLIX answered HTTP 500 to the status details."]


def test_the_403_body_tells_a_used_up_limit_from_a_rejected_key() -> None:
    what = f"the execution of test '{ID1}'"
    limit = testclix.TestClixAdapter.describe_error(403, "Execution limit exceeded", what) or ""
    denied = testclix.TestClixAdapter.describe_error(403, DENY, what) or ""
    missing = testclix.TestClixAdapter.describe_error(401, "Unauthorized", what) or ""
    assert "Test Execution package" in limit and "API key" not in limit
    assert "rejected the API key" in denied and "package" not in denied
    assert "received no API key" in missing
    assert testclix.TestClixAdapter.describe_error(500, "boom", what) is None


def test_sandbox_answers_a_missing_key_like_the_docs(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox_url(sandbox, 'testclix')}/v1/api/status/{quote(ID1, safe='')}", timeout=5)
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_two_tests_pass_as_the_runner_sees_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {
        "vendor": "testclix",
        "api-key": "sandbox-pass",
        "api-url": sandbox_url(sandbox, "testclix"),
        "tests": f"{ID1}\n{ID2}",
        "poll-interval": "1s",
    }
    run = run_in_process(tmp_path, inputs, server=sandbox)
    assert run.exit_code == 0, run.log
    assert run.outputs["status"] == "passed"
    assert run.outputs["passed"] == "2"
