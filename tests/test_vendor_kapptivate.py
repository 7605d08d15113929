"""Kapptivate: the contract table, the exact requests, the host-root join of result_uri, and the JWT lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from sandbox.kapptivate import STORAGE, KapptivateEmulator
from sandbox.server import Reply, SandboxServer
from suiterun.clock import Deadline
from suiterun.context import CIContext
from suiterun.gitmeta import GitMetadata
from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs
from tests.contract import BASE_INPUTS, Case, check_case, run_case
from tests.support import ActionRun, FakeClock, RecordingReporter, run_in_process, sandbox_url
from vendors.kapptivate import KapptivateAdapter, default_run_name

RESULTS = "/api/v1/continuous_integration/results/"

CASES = [
    # BASE_INPUTS asks for four tests, whose outcomes follow the scenario's tests in order, starting again after the last.
    Case("pass", "passed", 0, {"total": 4, "passed": 4, "failed": 0, "errored": 0, "skipped": 0, "pending": 0}),
    Case("flaky-tests", "failed", 1, {"total": 4, "failed": 4}, in_summary=("Failed on its first execution",)),
    Case(
        "mixed",
        "failed",
        1,
        {"total": 4, "passed": 2, "failed": 1, "errored": 1, "pending": 0},
        in_summary=("Checkout with expired card", "Card expired", "Failing step", "Check the expected screen (failure)", "12s"),
    ),
    Case("terminated", "cancelled", 1, {"total": 4, "passed": 0, "skipped": 4}),
    Case("group-error", "failed", 1, {"total": 4, "passed": 4, "failed": 0}, in_summary=("as 'failure' although no test is reported as failed",)),
    Case("counter-mismatch", "failed", 1, {"total": 4, "passed": 4}, in_summary=("counts 5 tests and 4 successes but lists 4 tests",)),
    Case("empty", "error", 3, {"total": 0}, in_summary=("no tests ran",)),
    Case("skipped", "failed", 1, {"total": 1, "errored": 1}, inputs={"tests": "1389"}, in_summary=("maintenance",)),
    Case("unknown-status", "failed", 1, {"total": 4, "passed": 2, "pending": 2}, in_log=("weird-new-state",)),
    Case("injection", "failed", 1, {"total": 4, "passed": 2, "failed": 2}),
    # One requested test is one test, whatever the scenario holds; the first is what the scenario is about.
    Case("pass", "passed", 0, {"total": 1, "passed": 1}, inputs={"tests": "1389"}, in_log=("Kapptivate: 0/1 finished", "Kapptivate: 1/1 finished")),
    Case("injection", "failed", 1, {"total": 1, "failed": 1}, inputs={"tests": "1389"}),
    Case("pass", "passed", 0, inputs={"tests": "1389,1390", "variables": "PR=42", "variable-group-id": "7", "run-name": "Nightly"}),
    # Input errors: one line naming the input, before anything is sent.
    Case("pass", "error", 2, inputs={"api-url": ""}, in_log=("Input 'api-url' is required for vendor kapptivate",)),
    Case("pass", "error", 2, inputs={"tests": ""}, in_log=("Kapptivate needs input 'tests'",)),
    Case("pass", "error", 2, inputs={"tests": "1389,login"}, in_log=("Input 'tests' must be a list of Kapptivate test ids", "'login'")),
    Case("pass", "error", 2, inputs={"devices": ""}, in_log=("Kapptivate needs input 'devices'",)),
    Case("pass", "error", 2, inputs={"devices": '["Pixel 8"]'}, in_log=("Input 'devices' must be a JSON object",)),
    Case("pass", "error", 2, inputs={"devices": "{}"}, in_log=("Input 'devices' is an empty JSON object",)),
    Case("pass", "error", 2, inputs={"variable-group-id": "abc"}, in_log=("Input 'variable-group-id'",)),
    Case("pass", "error", 2, inputs={"suites": "s-1"}, in_log=("'suites' does not apply to vendor kapptivate",)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_contract(case: Case, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("kapptivate", case, sandbox, tmp_path)
    if case.status == "error" and case.inputs:
        assert run.requests == []  # a bad input stops the action before any request


def test_requests_carry_the_documented_bodies_and_jwt_header(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {
        "tests": "1389\n1390",
        "devices": '{"phone": "Pixel 8"}',
        "variables": "PR=42,BRANCH=x",
        "variable-group-id": "7",
        "run-name": "Nightly",
    }
    run = run_case("kapptivate", Case("pass", "passed", 0, inputs=inputs), sandbox, tmp_path)
    (refresh,) = run.requests_to("POST", "/api/auth/refresh-token/")
    assert refresh["body"] == {"refresh_token": "sandbox-pass"}
    assert "authorization" not in refresh["headers"]
    (trigger,) = run.requests_to("POST", "/api/v1/continuous_integration/")
    test = {"direct_owners": {"phone": "Pixel 8"}, "input_variables": {"PR": "42", "BRANCH": "x"}}
    assert trigger["body"] == {
        "name": "Nightly",
        "variable_group_id": 7,
        "tests": [{"id": 1389, **test}, {"id": 1390, **test}],
        "options": {},
    }
    token = _tokens(run)[0]
    assert all(r["headers"]["authorization"] == f"JWT {token}" for r in run.requests if r is not refresh)
    assert run.outputs["status"] == "passed", run.log


def test_optional_fields_are_left_out_and_the_run_is_named_after_the_workflow_run(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {"vendor": "kapptivate", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "kapptivate"), "poll-interval": "10s"}
    run = run_in_process(tmp_path, {**inputs, **BASE_INPUTS["kapptivate"]}, server=sandbox, extra_env={"GITHUB_RUN_NUMBER": "12"})
    (trigger,) = run.requests_to("POST", "/api/v1/continuous_integration/")
    owners = {"direct_owners": {"your_device": "Pixel 8"}}
    assert trigger["body"] == {"name": "CI #12 0123456", "tests": [{"id": test_id, **owners} for test_id in (1389, 1390, 1391, 1392)], "options": {}}


@pytest.mark.parametrize(
    ("workflow", "run_number", "sha", "expected"),
    [
        ("CI", "12", "0123456789abcdef", "CI #12 0123456"),
        ("CI", "", "0123456789abcdef", "CI 0123456"),
        ("", "", "", "suiterun"),
    ],
)
def test_default_run_name_leaves_out_what_is_unknown(workflow: str, run_number: str, sha: str, expected: str) -> None:
    context = CIContext(workspace=Path("."), workflow=workflow, run_number=run_number, git=GitMetadata(commit_sha=sha))
    assert default_run_name(context) == expected


def test_result_uri_is_joined_to_the_host_root(sandbox: SandboxServer, tmp_path: Path) -> None:
    # The sandbox serves under /kapptivate and its result_uri carries that prefix:
    # api-url + result_uri would ask for /kapptivate/kapptivate/... and get a 404.
    run = run_case("kapptivate", Case("pass", "passed", 0), sandbox, tmp_path)
    result_id = run.outputs["run-ids"]
    reads = [(r["vendor"], r["path"]) for r in run.requests if r["method"] == "GET"]
    assert reads and set(reads) == {("kapptivate", f"{RESULTS}{result_id}/")}
    assert run.outputs["status"] == "passed", run.log


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "success", "result_uri": "https://elsewhere.example/api/v1/continuous_integration/results/1/", "result_id": 1},
        {"status": "success", "result_uri": "//elsewhere.example/results/1/", "result_id": 1},
        {"status": "error", "result_uri": "/api/v1/continuous_integration/results/1/", "result_id": 1},
        {"status": "success"},
    ],
)
def test_a_trigger_answer_without_a_result_path_fails_loudly_and_sends_the_token_nowhere(
    answer: dict[str, object], sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox.emulators["kapptivate"], "_start", lambda body, script: Reply(200, answer))
    run = check_case("kapptivate", Case("pass", "error", 3, in_log=("Kapptivate did not start a run",)), sandbox, tmp_path)
    assert not [r for r in run.requests if r["method"] == "GET"]


def test_tokens_are_masked_before_any_use_and_never_written(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("kapptivate", Case("mixed", "failed", 1), sandbox, tmp_path)
    written = run.summary + "".join(run.outputs.values())
    for token in _tokens(run):
        assert run.log.index(token) == run.log.index(f"::add-mask::{token}") + len("::add-mask::")
        assert token not in written


def test_large_per_step_fields_are_dropped_but_the_failing_steps_screenshot_is_shown(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("kapptivate", Case("mixed", "failed", 1), sandbox, tmp_path)
    outputs = "".join(value for name, value in run.outputs.items() if name != "summary")
    for dropped in (STORAGE, "screenshot_url_before", "screenshot_url_after", "time_since_parent_start", "-before.png"):
        assert dropped not in outputs
        assert dropped == STORAGE or dropped not in run.summary
    shots = [line for line in run.summary.splitlines() if "<img " in line]
    assert len(shots) == 2 and all(f'src="{STORAGE}/' in line and '-after.png" width="320"' in line for line in shots), shots
    assert {test["duration"] for test in run.results["tests"]} == {12.5}


def test_counters_only_results_become_rows_with_the_right_counts(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.emulators["kapptivate"], "list_tests", False)
    run = run_case("kapptivate", Case("mixed", "failed", 1), sandbox, tmp_path)
    assert [(test["name"], test["status"]) for test in run.results["tests"]] == [
        ("CI 0123456: test 1 of 4", "passed"),
        ("CI 0123456: test 2 of 4", "passed"),
        ("CI 0123456: test 3 of 4", "failed"),
        ("CI 0123456: test 4 of 4", "failed"),
    ]
    assert "2 of 4 tests successful; it does not say which" in run.summary


def test_a_lone_counted_test_gets_the_run_duration(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.emulators["kapptivate"], "list_tests", False)
    run = run_case("kapptivate", Case("skipped", "failed", 1, inputs={"tests": "1389"}), sandbox, tmp_path)
    (test,) = run.results["tests"]
    assert (test["status"], test["duration"]) == ("errored", 12.5)
    assert "as 'maintenance' with 0 of 1 tests successful" in test["message"]


def test_a_run_answers_for_the_tests_requested_by_their_ids(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case("kapptivate", Case("mixed", "failed", 1, {"total": 2, "passed": 1, "failed": 1}, inputs={"tests": "7,8"}), sandbox, tmp_path)
    assert [(test["id"], test["status"]) for test in run.results["tests"]] == [("7", "passed"), ("8", "failed")]
    assert "Kapptivate: 0/2 finished" in run.log and "Kapptivate: 2/2 finished" in run.log and "3/3" not in run.log


def test_rows_stay_pending_per_requested_test_while_the_run_is_ongoing(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("kapptivate", Case("never", "timeout", 3, inputs={"tests": "1389,1390", "timeout": "1m"}), sandbox, tmp_path)
    assert [(test["name"], test["status"], test["id"]) for test in run.results["tests"]] == [
        ("CI 0123456: test 1389", "pending", "1389"),
        ("CI 0123456: test 1390", "pending", "1390"),
    ]


def _adapter(sandbox: SandboxServer, clock: FakeClock, scenario: str) -> tuple[KapptivateAdapter, RecordingReporter]:
    environ = {"INPUT_API-KEY": f"sandbox-{scenario}", "INPUT_TESTS": "1389", "INPUT_DEVICES": '{"phone": "Pixel 8"}'}
    common = Common(
        api_key=f"sandbox-{scenario}", api_url=sandbox_url(sandbox, "kapptivate"), allow_http=False, wait=True, context=CIContext(Path("."))
    )
    options = KapptivateAdapter.parse_options(Inputs(environ), common)
    client = VendorClient(
        "Kapptivate",
        sandbox_url(sandbox, "kapptivate"),
        requests.Session(),
        Deadline.after(clock, 3600),
        describe_error=KapptivateAdapter.describe_error,
    )
    reporter = RecordingReporter()
    sandbox.requests.clear()
    return KapptivateAdapter(client, options, reporter), reporter


def _refreshes(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.requests if r["path"] == "/api/auth/refresh-token/")


def test_token_is_refreshed_once_it_is_90_seconds_old(sandbox: SandboxServer, clock: FakeClock) -> None:
    adapter, reporter = _adapter(sandbox, clock, "never")
    adapter.trigger()
    clock.now += 89
    adapter.poll()
    assert _refreshes(sandbox) == 1
    clock.now += 1
    adapter.poll()
    assert _refreshes(sandbox) == 2
    assert len(reporter.masked) == 2 and reporter.masked[0] != reporter.masked[1]
    assert sandbox.requests[-1]["headers"]["authorization"] == f"JWT {reporter.masked[1]}"


def test_a_401_refreshes_the_token_once_and_retries(sandbox: SandboxServer, clock: FakeClock) -> None:
    adapter, reporter = _adapter(sandbox, clock, "never")
    adapter.trigger()
    emulator = sandbox.emulators["kapptivate"]
    assert isinstance(emulator, KapptivateEmulator)
    emulator.revoke_tokens()
    snapshot = adapter.poll()
    assert snapshot.counts.pending == 1
    reads = [r["headers"]["authorization"] for r in sandbox.requests if r["method"] == "GET"]
    assert reads == [f"JWT {reporter.masked[0]}", f"JWT {reporter.masked[1]}"]
    assert any("HTTP 401" in line for line in reporter.lines)


def test_a_second_401_is_the_key_error_and_starts_nothing(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = sandbox.emulators["kapptivate"]
    monkeypatch.setattr(emulator, "token_lifetime", 0.0)  # every token is already expired when it is used
    before = emulator.runs_created
    run = check_case(
        "kapptivate", Case("pass", "error", 3, in_log=("Kapptivate rejected a freshly issued token for the test run request",)), sandbox, tmp_path
    )
    assert len(run.requests_to("POST", "/api/auth/refresh-token/")) == 2
    assert len(run.requests_to("POST", "/api/v1/continuous_integration/")) == 2
    assert emulator.runs_created == before


def test_a_rejected_api_key_names_the_key(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = check_case(
        "kapptivate", Case("wrong-key", "error", 3, in_log=("Kapptivate refused to issue a token for the API key (HTTP 401",)), sandbox, tmp_path
    )
    assert len(run.requests) == 1


def test_a_red_run_as_the_runner_sees_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {
        "vendor": "kapptivate",
        "api-key": "sandbox-mixed",
        "api-url": sandbox_url(sandbox, "kapptivate"),
        "poll-interval": "1s",
        "timeout": "1m",
    }
    run = run_in_process(tmp_path, {**inputs, **BASE_INPUTS["kapptivate"]}, server=sandbox)
    assert run.exit_code == 1, run.log
    assert (run.outputs["status"], run.outputs["passed"], run.outputs["failed"], run.outputs["errored"]) == ("failed", "2", "1", "1")
    assert "::add-mask::eyJ" in run.log
    assert "Checkout with expired card" in run.summary


def _tokens(run: ActionRun) -> list[str]:
    """The JWTs the action sent, in order of first use."""
    sent = (r["headers"].get("authorization", "") for r in run.requests)
    return list(dict.fromkeys(value.removeprefix("JWT ") for value in sent if value.startswith("JWT ")))
