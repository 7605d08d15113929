"""AIVA: the contract table in single-run and batch mode, the exact requests sent, and the tolerant status parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer
from suiterun.clock import Deadline
from suiterun.errors import VendorError
from suiterun.http import VendorClient
from suiterun.results import TestResult, TestStatus
from tests.contract import Case, check_case, run_case
from tests.support import FakeClock, RecordingReporter, run_in_process, sandbox_url
from vendors.aiva import AivaAdapter, AivaOptions, runs_by_id

BATCH = {"tests": "", "labels": "smoke, regression"}

CASES = [
    # Single runs: BASE_INPUTS starts four, whose outcomes follow the scenario's tests in order, cycling.
    Case("pass", "passed", 0, {"total": 4, "passed": 4, "failed": 0, "errored": 0, "skipped": 0, "pending": 0}),
    # Every test fails on its first execution; retry-failed starts it again (tests/test_retries.py).
    Case("flaky-tests", "failed", 1, {"total": 4, "failed": 4}, in_summary=("Failed on its first execution",)),
    Case("flaky-tests", "failed", 1, {"total": 3, "failed": 3}, inputs=BATCH),
    Case(
        "mixed",
        "failed",
        1,
        {"total": 4, "passed": 2, "failed": 1, "errored": 1, "pending": 0},
        in_summary=("Checkout with expired card", "Card expired", "https://app.aiva.works/test-runs/"),
    ),
    Case("terminated", "failed", 1, {"total": 4, "errored": 4}),
    Case("unrunnable", "failed", 1, {"total": 4, "passed": 2, "errored": 2}),
    Case("skipped", "error", 3, {"total": 4, "skipped": 4}, in_summary=("no tests ran", "all-skipped: pass would let such a run pass")),
    # all-skipped: pass lets a run whose every test was skipped pass, with a warning; a run with no test stays an error.
    Case(
        "skipped",
        "passed",
        0,
        {"total": 4, "skipped": 4},
        inputs={"all-skipped": "pass"},
        in_summary=("No test ran: the vendor skipped every one of 4 tests",),
        in_log=("::warning::No test ran",),
    ),
    Case("empty", "error", 3, {"total": 0}, inputs={**BATCH, "all-skipped": "PASS"}, in_summary=("no tests ran: the vendor reported no test",)),
    Case("pass", "error", 2, inputs={"all-skipped": "yes"}, in_log=("Input 'all-skipped' has unsupported value 'yes'", "error, pass")),
    Case("empty", "error", 3, {"total": 0}, in_log=("AIVA found nothing for test id 'test-1' (HTTP 404: Test 'test-1' not found)",)),
    # An unknown word keeps its runs pending until the timeout, with one warning naming it.
    Case("unknown-status", "timeout", 3, {"total": 4, "passed": 2, "pending": 2}, in_log=("'weird-new-state'",)),
    # One requested test is one run, and it is the test the scenario is about.
    Case("injection", "failed", 1, {"total": 1, "failed": 1}, inputs={"tests": "only-one"}, in_summary=("a \\| b &lt;img src=x&gt;",)),
    Case("unrunnable", "failed", 1, {"total": 1, "errored": 1}, inputs={"tests": "only-one"}),
    Case("pass", "passed", 0, {"total": 2, "passed": 2}, inputs={"tests": "", "test-names": "Basic test\nCheckout, guest"}),
    Case("pass", "passed", 0, {"total": 3}, inputs={"tests": "t-1", "test-names": "Basic test,Search", "gateway": "Office"}),
    # A batch by labels: the scenario's tests are the batch's tests.
    Case("pass", "passed", 0, {"total": 3, "passed": 3, "failed": 0, "pending": 0}, inputs=BATCH),
    Case(
        "mixed",
        "failed",
        1,
        {"total": 4, "passed": 2, "failed": 1, "errored": 1},
        inputs=BATCH,
        in_summary=("The app crashed while opening the reset screen.", "| 42s |"),
    ),
    Case("unrunnable", "failed", 1, {"total": 2, "errored": 1}, inputs=BATCH, in_summary=("The test failed to start.",)),
    Case("terminated", "failed", 1, {"total": 2, "errored": 2}, inputs=BATCH),
    Case("counter-mismatch", "failed", 1, {"total": 3, "passed": 3}, inputs=BATCH, in_summary=("counts 5 tests but lists 3",)),
    Case("empty", "error", 3, {"total": 0}, inputs=BATCH, in_summary=("no tests ran",)),
    Case("skipped", "error", 3, {"total": 1, "skipped": 1}, inputs=BATCH),
    Case("unknown-status", "error", 3, {"total": 2, "passed": 1, "pending": 1}, inputs=BATCH, in_log=("'weird-new-state'",)),
    Case("pass+flaky", "passed", 0, inputs=BATCH),
    Case("pass+html", "error", 3, inputs=BATCH, in_log=("HTML", "not its web app")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_contract(case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    check_case("aiva", case, sandbox, tmp_path)


def test_single_runs_send_the_documented_bodies(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {"tests": "id-1\nid-2", "test-names": "Basic test", "variables": "EMAIL=a@b.c,PR=42", "gateway": "My internal network"}
    run = run_case("aiva", Case("pass", "passed", 0, inputs=inputs), sandbox, tmp_path)
    shared = {"variables": {"EMAIL": "a@b.c", "PR": "42"}, "gatewayName": "My internal network"}
    assert [post["body"] for post in run.requests_to("POST", "/v1/test-runs")] == [
        {"testId": "id-1", **shared},
        {"testId": "id-2", **shared},
        {"testName": "Basic test", **shared},
    ]
    assert all(r["headers"]["x-api-key"] == "sandbox-pass" for r in run.requests)
    assert [test["name"] for test in run.results["tests"]][2] == "Basic test"


def test_n_runs_are_read_with_one_status_request_per_poll(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("aiva", Case("pass", "passed", 0), sandbox, tmp_path)
    run_ids = run.outputs["run-ids"].split(",")
    assert len(run_ids) == 4
    reads = run.requests_to("GET", "/v1/test-runs")
    assert len(reads) == 2  # the sandbox finishes a run on its second read: two polls, one request each
    assert all(read["query"] == {"TestRunIds": run_ids} for read in reads)


def test_batch_sends_the_documented_body_and_reads_the_ctrf_report(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {
        **BATCH,
        "max-agents": "3",
        "batch-name": "PR 42",
        "variables": '{"username": "testuser"}',
        "variables-per-test": '{"123e4567": {"expectedText": "Success", "retries": 2}}',
        "gateway": "PrimaryGateway",
    }
    run = run_case("aiva", Case("pass", "passed", 0, inputs=inputs), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/v1/batches")
    assert post["body"] == {
        "name": "PR 42",
        "labels": ["smoke", "regression"],
        "maxNumberOfAgents": 3,
        "globalVariablesOverrides": {"username": "testuser"},
        "variablesOverridesPerTest": {"123e4567": {"expectedText": "Success", "retries": "2"}},
        "gatewayName": "PrimaryGateway",
    }
    batch_id = run.outputs["run-ids"]
    reads = run.requests_to("GET", "/v1/batches/")
    assert [read["path"] for read in reads] == [f"/v1/batches/{batch_id}"] * 2
    assert all(read["headers"]["accept"] == "application/json" for read in reads)
    first = run.results["tests"][0]
    assert first["url"] == f"https://app.aiva.works/test-runs/{first['id']}"
    assert first["duration"] == 42.5


def test_batch_sends_only_the_inputs_given_and_one_agent_as_aivas_own_tools_do(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("aiva", Case("pass", "passed", 0, inputs={"tests": "", "labels": "smoke"}), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/v1/batches")
    assert post["body"] == {"labels": ["smoke"], "maxNumberOfAgents": 1}


@pytest.mark.parametrize("labels", ["smoke;regression", "smoke; regression;", "smoke,regression", "smoke\nregression", " smoke ;\n regression"])
def test_labels_are_separated_by_semicolons_as_in_aivas_own_tools_or_by_commas_and_lines(labels: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("aiva", Case("pass", "passed", 0, inputs={"tests": "", "labels": labels}), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/v1/batches")
    assert post["body"]["labels"] == ["smoke", "regression"]


def test_a_batch_links_its_page_as_the_run_url(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("aiva", Case("mixed", "failed", 1, inputs=BATCH), sandbox, tmp_path)
    link = f"https://app.aiva.works/test-batches/{run.outputs['run-ids']}"
    assert run.outputs["run-url"] == run.results["run_url"] == link
    assert f"[Open the run in AIVA]({link})" in run.summary


@pytest.mark.parametrize("extra", [None, {}, {"testBatchLink": None}, {"testBatchLink": "javascript:alert(1)"}, {"testBatchLink": 7}])
def test_a_batch_without_a_usable_link_falls_back_to_its_only_test(extra: Any) -> None:
    summary = {"tests": 1, "passed": 1, "pending": 0, **({"extra": extra} if extra is not None else {})}
    test = {"name": "Login", "status": "passed", "rawStatus": "Passed", "extra": {"testRunId": "r-1", "testResultLink": "https://app.aiva.works/r-1"}}
    adapter = AivaAdapter(CannedClient({"results": {"summary": summary, "tests": [test]}}), AivaOptions(labels=("smoke",)), RecordingReporter())
    adapter.batch_id = "b-1"
    assert adapter.poll().run_url == "https://app.aiva.works/r-1"


def test_a_single_test_links_its_result_as_the_run_url(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("aiva", Case("pass", "passed", 0, inputs={"tests": "only-one"}), sandbox, tmp_path)
    assert run.outputs["run-url"] == run.results["tests"][0]["url"] != ""
    several = run_case("aiva", Case("pass", "passed", 0), sandbox, tmp_path)
    assert several.outputs["run-url"] == ""


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"tests": ""}, "AIVA needs input 'tests' (test ids), 'test-names' or 'labels'; none is set."),
        ({"labels": "smoke"}, "AIVA takes either input 'labels' (one batch) or 'tests' (single test runs), not both"),
        ({"tests": "", "test-names": "A", "labels": "smoke"}, "or 'test-names' (single test runs), not both"),
        ({"max-agents": "2", "batch-name": "x"}, "Input 'max-agents', 'batch-name' applies only to an AIVA batch"),
        ({**BATCH, "max-agents": "0"}, "Input 'max-agents' must be a whole number of at least 1, got '0'."),
        ({**BATCH, "variables-per-test": "[1]"}, "Input 'variables-per-test' must be a JSON object, got list."),
        ({**BATCH, "variables-per-test": '{"t-1": "x"}'}, "the value for test 't-1' must be a JSON object of variables, got str."),
        ({"suites": "s-1"}, "Input 'suites' does not apply to vendor aiva"),
        ({"api-url": "https://app.aiva.works"}, "Input 'api-url' points at AIVA's web app (app.aiva.works); use its API, https://api.aiva.works"),
    ],
)
def test_input_errors_name_the_input(inputs: dict[str, str], message: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("aiva", Case("pass", "error", 2, inputs=inputs), sandbox, tmp_path)
    assert run.outputs["status"] == "error"
    assert run.exit_code == 2
    assert message in run.log
    assert not run.requests  # nothing was sent


def test_wrong_key_names_where_to_get_one(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("aiva", Case("wrong-key", "error", 3), sandbox, tmp_path)
    assert "AIVA rejected the API key (HTTP 401: Unauthorized)" in run.log
    assert "they start with aiva_" in run.log


def test_single_runs_pass_and_a_batch_fails_as_the_runner_sees_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    base = {"vendor": "aiva", "api-url": sandbox_url(sandbox, "aiva"), "poll-interval": "1s", "timeout": "1m", "tests": "a,b"}
    (tmp_path / "pass").mkdir()
    (tmp_path / "fail").mkdir()
    passing = run_in_process(tmp_path / "pass", {**base, "api-key": "sandbox-pass"}, server=sandbox)
    assert passing.exit_code == 0, passing.log
    assert (passing.outputs["status"], passing.outputs["passed"]) == ("passed", "2")
    assert "::error" not in passing.log
    failing = run_in_process(tmp_path / "fail", {**base, "api-key": "sandbox-mixed", "labels": "smoke", "tests": ""}, server=sandbox)
    assert failing.exit_code == 1, failing.log
    assert (failing.outputs["status"], failing.outputs["failed"], failing.outputs["errored"]) == ("failed", "1", "1")
    assert "::error title=AIVA%3A failed::2 of 4 tests failed" in failing.log


# The status body of GET /v1/test-runs is undocumented: every shape docs/vendors/aiva.md lists must read the same.
SHAPES = [
    [{"testRunId": "r-1", "status": "Passed"}, {"testRunId": "r-2", "status": "Running"}],
    {"testRuns": [{"testRunId": "r-1", "status": "passed"}, {"testRunId": "r-2", "status": "queued"}]},
    {"items": [{"id": "r-1", "state": "PASSED"}, {"id": "r-2", "state": "InProgress"}]},
    {"data": [{"id": "r-1", "result": "Passed"}, {"id": "r-2", "result": "pending"}]},
    {"results": [{"TestRunId": "r-1", "Status": "Passed"}, {"TestRunId": "r-2", "Status": "Running"}], "total": 2},
    {"totalCount": 3, "testRuns": [{"testRunId": "r-1", "status": "Passed"}, {"testRunId": "r-2", "status": "Running"}, "noise"]},
]


class CannedClient(VendorClient):
    """Answers every GET with one canned body and records the params."""

    def __init__(self, body: Any) -> None:
        super().__init__("AIVA", "https://api.aiva.works", requests.Session(), Deadline.after(FakeClock(), 60))
        self.body = body
        self.params: list[Any] = []

    def get(self, path: str, *, what: str, params: Any = None, headers: Any = None) -> Any:
        self.params.append(params)
        return self.body


def polled(body: Any, run_ids: tuple[str, ...] = ("r-1", "r-2")) -> tuple[AivaAdapter, RecordingReporter]:
    reporter = RecordingReporter()
    adapter = AivaAdapter(CannedClient(body), AivaOptions(test_ids=run_ids), reporter)
    adapter.started = tuple(TestResult(name=f"test {run_id}", status=TestStatus.PENDING, id=run_id) for run_id in run_ids)
    return adapter, reporter


@pytest.mark.parametrize("body", SHAPES, ids=["list", "testRuns", "items", "data", "results-pascal-case", "extra-fields"])
def test_every_listed_status_shape_reads_the_same(body: Any) -> None:
    adapter, reporter = polled(body)
    snapshot = adapter.poll()
    assert [test.status for test in snapshot.tests] == [TestStatus.PASSED, TestStatus.PENDING]
    assert not snapshot.done
    assert reporter.warnings == []
    assert adapter.client.params == [[("TestRunIds", "r-1"), ("TestRunIds", "r-2")]]  # type: ignore[attr-defined]


def test_status_words_map_and_unknown_words_stay_pending_with_one_warning() -> None:
    body = [
        {"testRunId": "r-1", "status": "FailedToStart"},
        {"testRunId": "r-2", "status": "Failed", "testName": "Checkout", "testResultLink": "https://app.aiva.works/x", "message": "no"},
        {"testRunId": "r-3", "status": "Frobnicated"},
    ]
    adapter, reporter = polled(body, ("r-1", "r-2", "r-3"))
    first = adapter.poll()
    adapter.poll()
    assert [test.status for test in first.tests] == [TestStatus.ERRORED, TestStatus.FAILED, TestStatus.PENDING]
    assert (first.tests[1].name, first.tests[1].url, first.tests[1].message) == ("Checkout", "https://app.aiva.works/x", "no")
    assert first.tests[0].name == "test r-1"  # no name in the body: the requested one
    assert len(reporter.warnings) == 1 and "'frobnicated'" in reporter.warnings[0]
    assert not first.done


def test_a_run_missing_from_the_body_stays_pending() -> None:
    adapter, _ = polled([{"testRunId": "r-1", "status": "Passed"}, {"testRunId": "someone-else", "status": "Failed"}])
    snapshot = adapter.poll()
    assert [(test.id, test.status) for test in snapshot.tests] == [("r-1", TestStatus.PASSED), ("r-2", TestStatus.PENDING)]
    assert not snapshot.done


def test_all_runs_finished_is_done() -> None:
    adapter, _ = polled({"testRuns": [{"id": "r-1", "status": "Passed"}, {"id": "r-2", "status": "Failed"}]})
    assert adapter.poll().done


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>", "which holds no list of runs"),
        ({"testRun": {"testRunId": "r-1", "status": "Passed"}}, "which holds no list of runs"),
        (None, "which holds no list of runs"),
        ([{"runId": "r-1", "outcome": "Passed"}], "runs that have no testRunId or id"),
    ],
)
def test_an_unreadable_status_body_is_a_clear_vendor_error(body: Any, message: str) -> None:
    with pytest.raises(VendorError, match=message) as raised:
        runs_by_id(body, "the status of 2 test runs")
    assert "undocumented" in str(raised.value) and "\n" not in str(raised.value)


def test_a_listed_run_without_any_status_field_is_a_vendor_error() -> None:
    adapter, _ = polled([{"testRunId": "r-1", "outcome": "Passed"}])
    with pytest.raises(VendorError, match="AIVA listed test run r-1 without a status, state or result"):
        adapter.poll()


def test_an_empty_list_keeps_every_run_pending() -> None:
    assert runs_by_id([], "the status") == {}
    assert runs_by_id({"items": []}, "the status") == {}


class CannedPosts(CannedClient):
    """Answers each POST with the next canned body."""

    def __init__(self, *answers: Any) -> None:
        super().__init__(None)
        self.answers = list(answers)

    def post(self, path: str, *, what: str, body: Any, headers: Any = None, retry: Any = None, seconds: Any = None) -> Any:
        return self.answers.pop(0)


def test_a_failed_trigger_after_some_runs_started_names_them() -> None:
    adapter = AivaAdapter(CannedPosts({"testRunId": "r-1"}, {"error": "busy"}), AivaOptions(test_ids=("a", "b")), RecordingReporter())
    with pytest.raises(VendorError) as raised:
        adapter.trigger()
    assert str(raised.value) == (
        "AIVA did not start test id 'b': it answered {'error': 'busy'}, without a testRunId. AIVA had already started test runs r-1."
    )


@pytest.mark.parametrize("report", [{"results": {"tests": []}}, {"results": {"summary": {"pending": "0"}}}, [], "<html>"])
def test_an_unreadable_batch_report_is_a_clear_vendor_error(report: Any) -> None:
    adapter = AivaAdapter(CannedClient(report), AivaOptions(labels=("smoke",)), RecordingReporter())
    adapter.batch_id = "b-1"
    with pytest.raises(VendorError, match=r"AIVA answered the report of batch b-1 with .*, not a CTRF report with results\.summary\.pending\.$"):
        adapter.poll()
