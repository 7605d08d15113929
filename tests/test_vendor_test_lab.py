"""Test-Lab: trigger-only contract against the sandbox, its own fault cases, input validation, and the exact request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest

from sandbox.server import SandboxServer
from suiterun.errors import VendorError
from suiterun.http import VendorClient
from suiterun.results import Snapshot
from tests.contract import Case, check_case, run_case
from tests.support import GITHUB_SHA, RecordingReporter, fake_checkout, run_entrypoint, sandbox_url
from vendors import test_lab

NO_RESULTS = "cannot report results"
ALL = {"tests": "", "project-id": "", "labels": ""}  # clears the base selector

CASES = [
    Case(
        "pass",
        "triggered",
        0,
        {"total": 3, "pending": 3, "errored": 0},
        in_summary=("Login with valid credentials", "Add to cart", NO_RESULTS, "running"),
    ),
    # What a flaky test does shows only in results, which Test-Lab's API cannot report: its plans start.
    Case("flaky-tests", "triggered", 0, {"total": 3, "pending": 3}),
    # One plan fails to start: the step fails although the others started.
    Case(
        "mixed",
        "failed",
        1,
        {"total": 4, "pending": 3, "errored": 1},
        in_summary=("could not start Reset password", "Target URL is unreachable"),
    ),
    # A skipped plan (a pipeline pre-step) carries its reason in `error`: skipped, never a failure to start.
    Case(
        "some-skipped",
        "triggered",
        0,
        {"total": 3, "pending": 2, "skipped": 1, "errored": 0},
        in_summary=("skipped: 'Sign in (pre-step)' is a pipeline pre-step",),
        in_log=("Test-Lab skipped 1 plan: Sign in (pre-step) (skipped: ",),
    ),
    Case("skipped", "error", 3, {"total": 1, "skipped": 1}, in_summary=("no tests ran: the vendor skipped the only test",)),
    Case("skipped", "passed", 0, {"total": 1, "skipped": 1}, inputs={"all-skipped": "pass"}, in_log=("::warning::No test ran",)),
    Case("empty", "error", 3, in_log=("found no test plans for the run request for project 7", "No test plans found")),
    Case("limit", "error", 3, in_log=("lack of credits (HTTP 402", "Top up")),
    Case("rate-limited", "error", 3, in_log=("HTTP 429", "100 requests a minute")),
    Case("pass", "triggered", 0, {"total": 2}, inputs={**ALL, "tests": "1, 2"}),
    Case("pass", "failed", 1, {"total": 2, "pending": 1, "errored": 1}, inputs={**ALL, "tests": "2,9"}, in_summary=("Test plan not found",)),
    Case("pass", "triggered", 0, {"total": 3}, inputs={**ALL, "labels": "smoke"}),
]

# What test_contract_faults.py runs for vendors that can poll, adapted to a trigger-only vendor.
FAULT_CASES = [
    Case("wrong-key", "error", 3, in_log=("rejected the API key (HTTP 401: Invalid API key)",)),
    Case("pass+trigger503", "triggered", 0, {"total": 3}),
    Case("pass+html", "error", 3, in_log=("HTML",)),
    Case("pass+down", "error", 3, in_log=("503",)),
    Case("pass", "triggered", 0, inputs={"fail-on": "never"}),
    Case("mixed", "failed", 0, inputs={"fail-on": "never"}),
    Case("mixed", "failed", 0, inputs={"fail-on": "error"}),
    Case("mixed", "failed", 1, inputs={"wait": "false"}),
]


@pytest.mark.parametrize("case", CASES + FAULT_CASES, ids=lambda case: case.id)
def test_contract(case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    check_case("test-lab", case, sandbox, tmp_path)


def test_results_are_never_read(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("test-lab", Case("pass", "triggered", 0), sandbox, tmp_path)
    assert [(r["method"], r["path"]) for r in run.requests] == [("POST", "/api/v1/run")]
    assert run.outputs["run-ids"] == ",".join(test["id"] for test in run.results["tests"])
    assert NO_RESULTS in run.summary


def test_wait_false_reports_the_same_without_the_warning(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("test-lab", Case("pass", "triggered", 0, {"total": 3}, inputs={"wait": "false"}), sandbox, tmp_path)
    assert NO_RESULTS not in run.summary


def test_trigger_retried_after_503_starts_each_job_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    emulator = sandbox.emulators["test-lab"]
    before = emulator.runs_created
    run = check_case("test-lab", Case("pass+trigger503", "triggered", 0), sandbox, tmp_path)
    assert len(run.requests_to("POST", "/api/v1/run")) == 2
    assert emulator.runs_created - before == len(run.outputs["run-ids"].split(",")) == 3


def test_rate_limit_is_retried_then_reported_creating_nothing(sandbox: SandboxServer, tmp_path: Path) -> None:
    emulator = sandbox.emulators["test-lab"]
    before = emulator.runs_created
    run = run_case("test-lab", Case("rate-limited", "error", 3), sandbox, tmp_path)
    assert len(run.requests_to("POST", "/api/v1/run")) == 4
    assert emulator.runs_created == before
    assert "Wait for running jobs to finish" in run.log


def test_redirect_from_the_bare_host_is_not_followed(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {"api-url": sandbox_url(sandbox, "test-lab") + "/bare"}
    run = check_case("test-lab", Case("pass", "error", 3, inputs=inputs), sandbox, tmp_path)
    assert "https://www.test-lab.ai/api/v1/run" in run.log and "set api-url" in run.log
    assert len(run.requests) == 1  # no GET to the redirect target, no second POST


@pytest.mark.parametrize(
    ("inputs", "body"),
    [
        ({}, {"projectId": 7, "buildId": GITHUB_SHA}),
        ({**ALL, "tests": "2"}, {"testPlanIds": [2], "buildId": GITHUB_SHA}),
        ({**ALL, "tests": "1\n2, 3"}, {"testPlanIds": [1, 2, 3], "buildId": GITHUB_SHA}),
        ({**ALL, "labels": "smoke"}, {"label": "smoke", "buildId": GITHUB_SHA}),
        ({"test-type": "DEEPTEST", "build-id": "build-77"}, {"projectId": 7, "testType": "deepTest", "buildId": "build-77"}),
    ],
)
def test_run_request_carries_the_documented_fields(inputs: dict[str, str], body: dict[str, object], sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("test-lab", Case("pass", "triggered", 0, inputs=inputs), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/api/v1/run")
    assert post["body"] == body
    assert post["headers"]["authorization"] == "Bearer sandbox-pass"


def test_a_checkout_with_ref_is_the_build_id_not_github_sha(sandbox: SandboxServer, tmp_path: Path) -> None:
    checked_out = "fe" * 20
    fake_checkout(tmp_path, checked_out, branch="release")  # actions/checkout with `ref: release` in a push workflow
    run = run_case("test-lab", Case("pass", "triggered", 0), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/api/v1/run")
    assert post["body"]["buildId"] == checked_out != GITHUB_SHA


def test_cookies_are_sent_and_their_values_masked(sandbox: SandboxServer, tmp_path: Path) -> None:
    cookies = [{"name": "session", "value": "s3cr3t-cookie", "domain": ".myapp.com"}]
    run = run_case("test-lab", Case("pass", "triggered", 0, inputs={"cookies": json.dumps(cookies)}), sandbox, tmp_path)
    (post,) = run.requests_to("POST", "/api/v1/run")
    assert post["body"]["cookies"] == cookies
    assert "::add-mask::s3cr3t-cookie" in run.log
    assert "s3cr3t-cookie" not in run.log.replace("::add-mask::s3cr3t-cookie", "") + run.summary + "".join(run.outputs.values())


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (ALL, "exactly one of inputs 'tests' (test plan ids), 'project-id' or 'labels' (one label); none is set"),
        ({"tests": "1"}, "got 'tests' and 'project-id'"),
        ({"project-id": "", "tests": "1", "labels": "smoke"}, "got 'tests' and 'labels'"),
        ({**ALL, "labels": "smoke, nightly"}, "Input 'labels': Test-Lab runs the plans of one label, got 2"),
        ({**ALL, "tests": "1,login"}, "Input 'tests' must be a list of Test-Lab test plan ids (whole numbers), got 'login'"),
        ({"project-id": "acme"}, "Input 'project-id' must be a whole number"),
        ({"test-type": "fast"}, "Input 'test-type' has unsupported value 'fast', expected one of: quickTest, deepTest"),
        ({"build-id": "b" * 101}, "Input 'build-id' is 101 characters long; Test-Lab accepts at most 100"),
        ({"cookies": "{"}, "Input 'cookies' is not valid JSON"),
        ({"cookies": '{"name": "a"}'}, "Input 'cookies' must be a JSON array"),
        ({"cookies": '["TOPSECRET"]'}, "Input 'cookies': entry 0 must be an object"),
        (
            {"cookies": '[{"name": "a", "value": "x", "domain": ".a.com"}, {"name": "b", "value": 42, "domain": ".a.com"}]'},
            "Input 'cookies': entry 1 needs 'value' as a non-empty string",
        ),
        ({"cookies": '[{"name": "a", "value": "TOPSECRET"}]'}, "Input 'cookies': entry 0 needs 'domain' as a non-empty string"),
        ({"cookies": '[{"name": "a", "value": "TOPSECRET", "domain": ".a.com", "path": "/"}]'}, "entry 0 has unknown field 'path'"),
        ({"suites": "s-1"}, "Input 'suites' does not apply to vendor test-lab"),
    ],
)
def test_invalid_inputs_fail_before_any_request(inputs: dict[str, str], message: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("test-lab", Case("pass", "error", 2, inputs=inputs), sandbox, tmp_path)
    assert run.exit_code == 2 and run.outputs["status"] == "error"
    assert message in run.log, run.log
    assert "TOPSECRET" not in run.log + run.summary + "".join(run.outputs.values())
    assert run.requests == []


def test_foreign_vendor_rejects_test_lab_inputs(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("testclix", Case("pass", "error", 2, inputs={"project-id": "7", "cookies": "[]"}), sandbox, tmp_path)
    assert "Input 'project-id', 'cookies' does not apply to vendor testclix" in run.log


class _Answers:
    """A stand-in client whose run request answers `answer`."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    def post(self, path: str, *, what: str, body: object) -> object:
        return self.answer


def _trigger(answer: object, reporter: RecordingReporter) -> Snapshot:
    adapter = test_lab.TestLabAdapter(cast(VendorClient, _Answers(answer)), test_lab.TestLabOptions(plan_ids=(5,)), reporter)
    return adapter.trigger()


def test_single_plan_answer_of_the_older_docs() -> None:
    snapshot = _trigger({"jobId": "j-1", "status": "queued", "testPlanId": 5, "testType": "quickTest"}, RecordingReporter())
    (job,) = snapshot.tests
    assert (job.name, job.id, job.status.value, job.message) == ("test plan 5", "j-1", "pending", "job j-1 queued")
    assert snapshot.run_ids == ("j-1",) and snapshot.problems == ()


def test_unknown_job_status_and_unexplained_failed_count() -> None:
    reporter = RecordingReporter()
    snapshot = _trigger({"jobs": [{"jobId": "j-1", "status": "warming-up", "testPlanId": 5}], "triggered": 1, "failed": 1}, reporter)
    assert snapshot.tests[0].status.value == "pending"
    assert snapshot.problems == ("Test-Lab reports 1 plans failed to start but names 0; check its dashboard",)
    assert any("warming-up" in warning for warning in reporter.warnings)


@pytest.mark.parametrize(
    ("job", "status", "message"),
    [
        ({"status": "skipped", "error": "pre-step"}, "skipped", "skipped: pre-step"),
        ({"status": "Skipped"}, "skipped", "skipped"),
        ({"status": "error", "error": "no browser"}, "errored", "no browser"),
        ({"status": "error"}, "errored", "job (no id) ended in 'error' without a reason"),
        ({"error": "no browser"}, "errored", "no browser"),  # an error without a status is a failure to start
        ({"jobId": "j-1", "status": "running"}, "pending", "job j-1 running"),
    ],
)
def test_a_job_is_read_by_its_status_first_then_its_error(job: dict[str, object], status: str, message: str) -> None:
    snapshot = _trigger({"jobs": [{"testPlanId": 5, **job}, {"jobId": "j-2", "status": "running", "testPlanId": 6}]}, RecordingReporter())
    assert (snapshot.tests[0].status.value, snapshot.tests[0].message) == (status, message)


def test_a_skipped_count_above_the_skipped_jobs_listed_is_warned_about() -> None:
    reporter = RecordingReporter()
    _trigger({"jobs": [{"jobId": "j-1", "status": "running", "testPlanId": 5}], "triggered": 1, "failed": 0, "skipped": 2}, reporter)
    assert reporter.warnings == ["Test-Lab reports 2 plans skipped but lists 0; check its dashboard for the others."]


def test_an_answer_without_jobs_is_an_error() -> None:
    with pytest.raises(VendorError, match="not a list of started jobs"):
        _trigger({"ok": True}, RecordingReporter())


def test_entrypoint_subprocess(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {"vendor": "test-lab", "api-key": "sandbox-mixed", "api-url": sandbox_url(sandbox, "test-lab"), "tests": "1,2,3"}
    run = run_entrypoint(tmp_path, inputs, server=sandbox)
    assert run.exit_code == 1, run.log
    assert run.outputs["status"] == "failed"
    assert "Test-Lab could not start Reset password" in run.summary
    assert len(run.outputs["run-ids"].split(",")) == 2
