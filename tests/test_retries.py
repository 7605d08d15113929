"""retry-failed: the merge rule for one test, the engine's rounds against a scripted adapter, and the whole action
against the sandbox (AIVA single runs by id and by name, an AIVA batch, TestCLIX), with its outputs and reports."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from io import StringIO
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from junitparser import Error, Failure

from sandbox.scenarios import FAULTS, FLAKY_MESSAGE, FLAKY_TESTS, MIXED, SCRIPTS, choose
from sandbox.server import SandboxServer
from sandbox.testclix import scenario_test_id
from suiterun import cli
from suiterun.context import CIContext
from suiterun.engine import RunState, run_action
from suiterun.inputs import Common, Inputs
from suiterun.registry import ADAPTERS, VendorAdapter
from suiterun.results import AllSkipped, Outcome, RunStatus, Snapshot, TestResult, TestStatus
from suiterun.retries import merge_retry, merge_round, to_retry
from suiterun.settings import Reporting, Settings
from suiterun.workflow import Console
from tests.contract import BASE_INPUTS, Case, run_case
from tests.support import ActionRun, FakeClock, run_in_process, sandbox_url
from tests.test_reports import ctrf_report, surefire_cases

P, F, E, S, W = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERRORED, TestStatus.SKIPPED, TestStatus.PENDING

# --- The rule for one test ---

FIRST = TestResult("Checkout", F, id="run-1", url="https://v.example/run-1", message="first failure", group="Smoke", identity="t-1")


@pytest.mark.parametrize(
    ("before", "again", "expected"),
    [
        # Passed on the retry: passed, flaky, the failed attempt kept; the result is the re-run's, the name the test's.
        (
            FIRST,
            TestResult("Checkout (re-run)", P, id="run-2", url="https://v.example/run-2", identity="t-1"),
            replace(FIRST, status=P, id="run-2", url="https://v.example/run-2", message="", retries=1, attempts=("first failure",), history="flaky"),
        ),
        # Failed again: still failed, each attempt's message kept (the earlier ones in attempts, the last as the message).
        (
            FIRST,
            TestResult("Checkout", F, id="run-2", message="second", identity="t-1"),
            replace(FIRST, id="run-2", url="", message="second", retries=1, attempts=("first failure",)),
        ),
        (
            FIRST,
            TestResult("Checkout", E, id="run-2", message="crashed", identity="t-1"),
            replace(FIRST, status=E, id="run-2", url="", message="crashed", retries=1, attempts=("first failure",)),
        ),
        # A second retry adds to what the first left.
        (
            replace(FIRST, retries=1, attempts=("zeroth",)),
            TestResult("Checkout", P, id="run-3", identity="t-1"),
            replace(FIRST, status=P, id="run-3", url="", message="", retries=2, attempts=("zeroth", "first failure"), history="flaky"),
        ),
        # An attempt without a message keeps its place.
        (
            replace(FIRST, message=""),
            TestResult("Checkout", F, message="", identity="t-1"),
            replace(FIRST, id="", url="", message="", retries=1, attempts=("",)),
        ),
        # A re-run that did not end (time ran out, or it was skipped) leaves the test as it was.
        (FIRST, TestResult("Checkout", W, id="run-2", identity="t-1"), FIRST),
        (FIRST, TestResult("Checkout", S, id="run-2", identity="t-1"), FIRST),
    ],
    ids=["passes", "fails-again", "errors", "second-retry", "no-message", "unfinished", "skipped"],
)
def test_merge_retry(before: TestResult, again: TestResult, expected: TestResult) -> None:
    assert merge_retry(before, again) == expected


def test_a_round_retries_each_failed_identity_once_and_never_a_pass() -> None:
    tests = (
        TestResult("a", P, identity="a"),
        TestResult("b", F, identity="b"),
        TestResult("b again", E, identity="b"),
        TestResult("c", E, identity="c"),
        TestResult("no identity", F),
        TestResult("d", S, identity="d"),
        TestResult("e", W, identity="e"),
    )
    assert [test.name for test in to_retry(tests)] == ["b", "c"]


def test_a_round_merges_into_the_failed_tests_of_its_identities_only() -> None:
    run = Snapshot(
        (TestResult("a", P, identity="a"), TestResult("a", F, identity="a"), TestResult("b", F, identity="b")), done=True, run_ids=("r-1",)
    )
    again = Snapshot((TestResult("a", P, id="r-2", identity="a"),), done=True, run_ids=("r-2", "r-1"))
    merged = merge_round(run, again)
    assert [(test.status, test.retries) for test in merged.tests] == [(P, 0), (P, 1), (F, 0)]
    assert merged.run_ids == ("r-1", "r-2")


# --- The engine's rounds, with a scripted adapter ---


@dataclass(frozen=True)
class Plan:
    """Each test's identity and how its executions end, one letter each (P, F, E; W: never ends); the last repeats."""

    tests: tuple[tuple[str, str], ...]


class ScriptedAdapter(VendorAdapter[Plan]):
    """Starts the planned tests; every execution ends at the first read. `calls` records what each start asked for."""

    name = "scripted"
    title = "Scripted"
    default_api_url = "https://vendor.example"
    docs_url = "https://vendor.example/docs"
    inputs = ()
    can_retry = True
    calls: ClassVar[list[tuple[str, ...]]] = []  # of the last run

    def __init__(self, client: Any, options: Plan, reporter: Any) -> None:
        super().__init__(client, options, reporter)
        self.executions: Counter[str] = Counter()
        self.running: tuple[str, ...] = ()
        ScriptedAdapter.calls = []

    @classmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> Plan:
        raise NotImplementedError

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {}

    def trigger(self) -> Snapshot:
        return self._start(tuple(identity for identity, _ in self.options.tests))

    def retry(self, tests: Sequence[TestResult]) -> Snapshot:
        return self._start(tuple(test.identity for test in tests))

    def _start(self, identities: tuple[str, ...]) -> Snapshot:
        ScriptedAdapter.calls.append(identities)
        self.executions.update(identities)
        self.running = identities
        return Snapshot(tuple(TestResult(identity, W, identity=identity) for identity in identities))

    def poll(self) -> Snapshot:
        plans = dict(self.options.tests)
        words = {"P": P, "F": F, "E": E, "W": W}
        tests = []
        for identity in self.running:
            plan = plans[identity]
            status = words[plan[min(self.executions[identity], len(plan)) - 1]]
            message = "" if status in (P, W) else f"{identity} attempt {self.executions[identity]} {status.value}"
            tests.append(TestResult(identity, status, id=f"{identity}-{self.executions[identity]}", message=message, identity=identity))
        return Snapshot(tuple(tests), done=W not in {test.status for test in tests}, run_ids=tuple(test.id for test in tests))


def run_scripted(tmp_path: Path, plan: Plan, *, rounds: int, timeout: float = 600) -> tuple[Outcome, str]:
    context = CIContext(tmp_path)
    settings = Settings(
        adapter=ScriptedAdapter,
        common=Common("scripted-key", "https://vendor.example", allow_http=False, wait=True, context=context, retry_failed=rounds),
        options=plan,
        timeout=timeout,
        poll_interval=10,
        all_skipped=AllSkipped.ERROR,
        reporting=Reporting(),
    )
    out = StringIO()
    clock = FakeClock()
    outcome = run_action(
        settings, session=requests.Session(), clock=clock, workflow=Console(context, out=out), rng=random.Random(7), state=RunState()
    )
    return outcome, out.getvalue()


@pytest.mark.parametrize(
    ("plan", "rounds", "calls", "ends"),
    [
        # A pass is never started again; a test that passes on a retry is not started once more. `ends`: each test's
        # final status and retries.
        ((("a", "P"), ("b", "FP"), ("c", "F")), 2, [("a", "b", "c"), ("b", "c"), ("c",)], "P0 P1 F2"),
        ((("a", "P"), ("b", "FP"), ("c", "F")), 1, [("a", "b", "c"), ("b", "c")], "P0 P1 F1"),
        # No failure left: no more rounds.
        ((("a", "FP"), ("b", "EFP")), 3, [("a", "b"), ("a", "b"), ("b",)], "P1 P2"),
        ((("a", "P"),), 3, [("a",)], "P0"),
        # Two tests of one identity (a test asked for twice): started again once a round.
        ((("a", "F"), ("a", "F"), ("b", "FP")), 1, [("a", "a", "b"), ("a", "b")], "F1 F1 P1"),
        ((("a", "E"),), 3, [("a",), ("a",), ("a",), ("a",)], "E3"),
    ],
)
def test_rounds_start_only_the_failed_tests_once_each(
    plan: tuple[tuple[str, str], ...], rounds: int, calls: list[tuple[str, ...]], ends: str, tmp_path: Path
) -> None:
    outcome, log = run_scripted(tmp_path, Plan(plan), rounds=rounds)
    assert ScriptedAdapter.calls == calls
    assert " ".join(f"{test.status.value[0].upper()}{test.retries}" for test in outcome.snapshot.tests) == ends
    assert outcome.status is (RunStatus.PASSED if {end[0] for end in ends.split()} == {"P"} else RunStatus.FAILED)
    for number, started in enumerate(calls[1:], 1):
        assert f"Scripted: retry {number} of {rounds}: starting {len(set(started))} failed test" in log


def test_a_pass_on_a_retry_is_flaky_with_a_warning_and_a_failure_keeps_every_attempt(tmp_path: Path) -> None:
    outcome, log = run_scripted(tmp_path, Plan((("a", "FFP"), ("b", "FEE"))), rounds=2)
    a, b = outcome.snapshot.tests
    assert (a.status, a.retries, a.attempts, a.history, a.id) == (P, 2, ("a attempt 1 failed", "a attempt 2 failed"), "flaky", "a-3")
    assert (b.status, b.retries, b.attempts, b.message, b.history) == (E, 2, ("b attempt 1 failed", "b attempt 2 errored"), "b attempt 3 errored", "")
    warning = "Test 'a' failed, then passed on retry 2: it counts as passed and is marked flaky (first failure: a attempt 1 failed)."
    assert outcome.warnings == (warning,)
    assert f"Warning: Flaky test: {warning}" in log
    assert outcome.snapshot.run_ids == ("a-1", "b-1", "a-2", "b-2", "a-3", "b-3")


def test_flaky_warnings_are_capped_like_every_kind_of_warning(tmp_path: Path) -> None:
    outcome, _ = run_scripted(tmp_path, Plan(tuple((f"t{n:02d}", "FP") for n in range(12))), rounds=1)
    assert outcome.status is RunStatus.PASSED
    assert [warning.startswith("Test 't") for warning in outcome.warnings] == [True] * 10 + [False]
    assert outcome.warnings[-1] == "2 more warnings (Flaky test) in the log only."


def test_a_retry_cut_by_the_timeout_leaves_its_tests_as_they_were_and_the_run_times_out(tmp_path: Path) -> None:
    outcome, _ = run_scripted(tmp_path, Plan((("a", "FW"), ("b", "FP"), ("c", "P"))), rounds=2, timeout=60)
    a, b, c = outcome.snapshot.tests
    assert (a.status, a.retries, a.message) == (F, 0, "a attempt 1 failed")  # its retry never ended
    assert (b.status, b.retries) == (P, 1)  # what ended in that round counts
    assert c.retries == 0
    assert outcome.status is RunStatus.TIMEOUT
    assert ScriptedAdapter.calls == [("a", "b", "c"), ("a", "b")]  # no second round without time
    assert "The timeout came during retry 1" in outcome.warnings[-1]


# --- Inputs ---


@pytest.mark.parametrize("vendor", sorted(name for name, adapter in ADAPTERS.items() if not adapter.can_retry))
def test_retry_failed_with_a_vendor_that_cannot_start_one_test_again_is_an_input_error(vendor: str, tmp_path: Path) -> None:
    run = run_in_process(
        tmp_path, {"vendor": vendor, "api-key": "sandbox-pass", "api-url": "http://127.0.0.1:9/x", **BASE_INPUTS[vendor], "retry-failed": "1"}
    )
    assert (run.outputs["status"], run.exit_code) == ("error", 2)
    able = " and ".join(name for name, adapter in ADAPTERS.items() if adapter.can_retry)
    assert f"Input 'retry-failed' does not apply to vendor {vendor}:" in run.log
    assert f"({able} can); remove it, or re-run the whole job." in run.log


@pytest.mark.parametrize(
    ("vendor", "inputs", "message"),
    [
        ("aiva", {"retry-failed": "4"}, "Input 'retry-failed' must be a whole number from 0 to 3, got '4'."),
        ("testclix", {"retry-failed": "1", "wait": "false"}, "Input 'retry-failed' needs wait: true"),
        (
            "aiva",
            {"tests": "", "labels": "smoke", "variables-per-test": '{"t-1": {"A": "1"}}', "retry-failed": "2"},
            "Inputs 'variables-per-test' and 'retry-failed' cannot be used together",
        ),
    ],
)
def test_retry_failed_input_errors(vendor: str, inputs: dict[str, str], message: str, tmp_path: Path) -> None:
    run = run_in_process(tmp_path, {"vendor": vendor, "api-key": "sandbox-pass", "api-url": "http://127.0.0.1:9/x", **BASE_INPUTS[vendor], **inputs})
    assert (run.outputs["status"], run.exit_code) == ("error", 2)
    assert message in run.log


# --- The sandbox's flaky-tests scenario ---


def test_scenarios_and_faults_share_one_namespace_without_a_name_in_both() -> None:
    assert set(SCRIPTS).isdisjoint(FAULTS)
    assert choose("sandbox-flaky") is None  # the fault alone is no scenario
    choice = choose("sandbox-flaky-tests+flaky")
    assert choice is not None and (choice.scenario, choice.faults) == ("flaky-tests", frozenset({"flaky"}))


# The runs retry-failed can start again, each with how it names a test in its trigger requests.
TESTCLIX_FLAKY = {"tests": ",".join(scenario_test_id(n) for n in range(1, len(FLAKY_TESTS) + 1))}
RETRIABLE = {
    "aiva-ids": ("aiva", {}),
    "aiva-names": ("aiva", {"tests": "", "test-names": "Basic test\nCheckout, guest"}),
    "aiva-batch": ("aiva", {"tests": "", "labels": "smoke", "variables": "A=1"}),
    "testclix": ("testclix", TESTCLIX_FLAKY),
}
REPORTS = {"junit-file": "reports/junit.xml", "ctrf-file": "reports/ctrf.json"}


def triggers(run: ActionRun) -> list[list[str]]:
    """The tests each trigger request started, grouped into rounds: a round is the triggers sent one after another."""
    rounds: list[list[str]] = []
    previous = ""
    for request in run.requests:
        started = _started(request)
        if started is None:
            previous = ""
            continue
        if previous != "trigger":
            rounds.append([])
        rounds[-1].extend(started)
        previous = "trigger"
    return rounds


def _started(request: dict[str, Any]) -> list[str] | None:
    if request["method"] != "POST":
        return None
    if request["path"] == "/v1/test-runs":
        return [request["body"].get("testId") or request["body"]["testName"]]
    if request["path"] == "/v1/batches":
        return [f"batch {','.join(request['body']['labels'])}"]
    if request["path"].startswith("/v1/api/execute/"):
        return [request["path"].removeprefix("/v1/api/execute/").replace("%26", "&")]
    return None


@pytest.mark.parametrize("kind", RETRIABLE)
def test_tests_that_pass_on_a_retry_pass_the_step_marked_flaky(kind: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    vendor, inputs = RETRIABLE[kind]
    run = run_case(vendor, Case("flaky-tests", "passed", 0, inputs={**inputs, **REPORTS, "retry-failed": "1"}), sandbox, tmp_path)
    assert (run.outputs["status"], run.exit_code) == ("passed", 0), run.log
    tests = run.results["tests"]
    total = int(run.outputs["total"])
    assert total == len(tests) > 0 and run.outputs["passed"] == run.outputs["flaky"] == str(total)
    assert {(test["status"], test["retries"], test["history"], len(test["attempts"])) for test in tests} == {("passed", 1, "flaky", 1)}
    assert run.outputs["failed-tests"] == ""
    for test in tests:
        assert f"::warning title=Flaky test::Test '{test['name']}' failed, then passed on retry 1: it counts as passed and is marked flaky" in run.log
    assert run.summary.count("failed, then passed on retry 1: it counts as passed and is marked flaky") == total
    assert all(FLAKY_MESSAGE in test["attempts"][0] for test in tests)
    # The first execution of each (a batch: of all), then each failed test once more.
    first, again = triggers(run)
    identities = [test["identity"] for test in tests]
    assert again == identities
    assert first == (["batch smoke"] if "labels" in inputs else identities)
    # JUnit (Surefire's convention): a pass with one <flakyFailure> each; CTRF: flaky, retries and the failed attempt.
    attempts = {test["name"]: test["attempts"] for test in tests}
    for name, case in surefire_cases((tmp_path / "reports/junit.xml").read_text(encoding="utf-8")).items():
        assert [flaky.message for flaky in case.flaky_failures()] == attempts[name]
        assert not case.result
    report = ctrf_report(tmp_path / "reports/ctrf.json")["results"]
    assert report["summary"]["flaky"] == total
    assert {(test["status"], test["flaky"], test["retries"], len(test["retryAttempts"])) for test in report["tests"]} == {("passed", True, 1, 1)}


def test_a_batchs_tests_are_started_again_as_single_runs_by_name_with_its_variables(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case(
        "aiva", Case("flaky-tests", "passed", 0, inputs={**RETRIABLE["aiva-batch"][1], "gateway": "Office", "retry-failed": "1"}), sandbox, tmp_path
    )
    singles = [request["body"] for request in run.requests_to("POST", "/v1/test-runs")]
    assert singles == [{"testName": test.name, "variables": {"A": "1"}, "gatewayName": "Office"} for test in FLAKY_TESTS]


# `mixed` passes, fails, errors and passes: the runs with its four tests, and the identities of the two that fail.
MIXED_RUNS = {
    "aiva-ids": ("aiva", {}, ["test-2", "test-3"]),
    "aiva-batch": ("aiva", {"tests": "", "labels": "smoke"}, [test.name for test in MIXED[1:3]]),
    "testclix": ("testclix", {"tests": ",".join(scenario_test_id(n) for n in range(1, 5))}, [scenario_test_id(2), scenario_test_id(3)]),
}


@pytest.mark.parametrize("kind", MIXED_RUNS)
def test_tests_that_fail_every_attempt_stay_failed_and_passes_are_never_started_again(kind: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    vendor, inputs, failing = MIXED_RUNS[kind]
    run = run_case(vendor, Case("mixed", "failed", 1, inputs={**inputs, **REPORTS, "retry-failed": "2"}), sandbox, tmp_path)
    assert (run.outputs["status"], run.exit_code, run.outputs["flaky"]) == ("failed", 1, "0"), run.log
    tests = run.results["tests"]
    failed = [test for test in tests if test["status"] != "passed"]
    assert [test["identity"] for test in failed] == failing
    assert {(test["retries"], len(test["attempts"]), test["history"]) for test in failed} == {(2, 2, "")}
    assert all(attempt == test["message"] for test in failed for attempt in test["attempts"])  # the scenario fails alike each time
    assert {test["retries"] for test in tests if test["status"] == "passed"} == {0}
    # Three rounds of triggers (the run and two retries); a retry starts each failed test once, and never a passed one.
    _, *retries = triggers(run)
    assert retries == [failing] * 2
    assert all(test["identity"] not in retry for test in tests if test["status"] == "passed" for retry in retries)
    # JUnit: the first failure stays the <failure> (or <error>), then one <rerunFailure> per failed re-run.
    for case in surefire_cases((tmp_path / "reports/junit.xml").read_text(encoding="utf-8")).values():
        expected = 2 if any(isinstance(result, Failure | Error) for result in case.result) else 0
        assert len(case.rerun_failures()) == expected and not case.flaky_failures()
    report = ctrf_report(tmp_path / "reports/ctrf.json")["results"]
    assert report["summary"]["flaky"] == 0
    assert [(test.get("retries"), test.get("flaky")) for test in report["tests"] if test["status"] == "failed"] == [(2, False)] * 2


def test_a_retry_cut_by_the_timeout_ends_the_run_as_timeout_with_the_failures_as_they_were(sandbox: SandboxServer, tmp_path: Path) -> None:
    # The run ends at the second read, about 4 s in; the retry's second read would come about 8 s in.
    inputs = {"retry-failed": "1", "timeout": "7s", "poll-interval": "2s", **REPORTS}
    run = run_case("aiva", Case("mixed", "timeout", 3, inputs=inputs), sandbox, tmp_path)
    assert (run.outputs["status"], run.exit_code) == ("timeout", 3), run.log
    assert [(test["status"], test["retries"]) for test in run.results["tests"]] == [("passed", 0), ("failed", 0), ("errored", 0), ("passed", 0)]
    assert triggers(run)[1:] == [["test-2", "test-3"]]  # the retry was started, and never read to its end
    assert "The timeout came during retry 1" in run.summary
    assert run.outputs["failed-tests"] == "test-2,test-3"


def test_flaky_tests_fail_first_in_every_run_after_a_reset(sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {"vendor": "aiva", "api-key": "sandbox-flaky-tests", "api-url": sandbox_url(sandbox, "aiva"), "tests": "a,b", "poll-interval": "10s"}
    for name, server, status in [("first", sandbox, "failed"), ("same-key-again", None, "passed"), ("after-reset", sandbox, "failed")]:
        (tmp_path / name).mkdir()
        run = run_in_process(tmp_path / name, inputs, server=server)  # a run without the server does not reset it
        assert run.outputs["status"] == status, run.log


def test_the_command_retries_too(sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`suiterun run` (GitLab, Jenkins, a terminal) goes through the same engine; the Docker action and the composite
    variant run main(), tested above."""
    sandbox.reset()
    monkeypatch.chdir(tmp_path)
    args = ["run", "--vendor", "testclix", "--api-url", sandbox_url(sandbox, "testclix"), "--tests", TESTCLIX_FLAKY["tests"], "--retry-failed", "1"]
    code = cli.main([*args, "--outputs-file", "outputs.json"], {"PATH": "", "SUITERUN_API_KEY": "sandbox-flaky-tests"}, clock=FakeClock())
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"TestCLIX: retry 1 of 1: starting {len(FLAKY_TESTS)} failed tests again" in printed
    assert printed.count("Warning: Flaky test: Test ") == len(FLAKY_TESTS)
    outputs = json.loads((tmp_path / "outputs.json").read_text(encoding="utf-8"))
    assert (outputs["status"], outputs["flaky"]) == ("passed", str(len(FLAKY_TESTS)))
