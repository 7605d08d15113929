"""Report files: JUnit XML and CTRF JSON from every vendor parse with the right counts; paths are checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, xunit2

from sandbox.server import SandboxServer
from suiterun.outputs import results_json
from suiterun.reports import ReportFiles, ctrf_json, junit_xml, write_reports
from suiterun.results import Outcome, RunStatus, Snapshot, TestResult, TestStatus, Verdict
from tests.contract import BASE_INPUTS, Case, run_case
from tests.support import ActionRun

CTRF_SCHEMA = json.loads((Path(__file__).parent / "ctrf.schema.json").read_text(encoding="utf-8"))
REPORT_INPUTS = {"junit-file": "reports/junit.xml", "ctrf-file": "reports/ctrf/results.json"}


def run_with_reports(vendor: str, scenario: str, sandbox: SandboxServer, tmp_path: Path, **inputs: str) -> ActionRun:
    return run_case(vendor, Case(scenario, "", 0, inputs={**REPORT_INPUTS, **inputs}), sandbox, tmp_path)


def junit_cases(path: Path) -> list[tuple[str, str]]:
    """(name, outcome) per testcase, outcome being failure/error/skipped/passed."""
    cases = []
    for suite in JUnitXml.fromfile(str(path)):
        for case in suite:
            kinds = {Failure: "failure", Error: "error", Skipped: "skipped"}
            outcome = next((kinds[type(result)] for result in case.result if type(result) in kinds), "passed")
            cases.append((case.name, outcome))
    return cases


def surefire_cases(xml: str) -> dict[str, xunit2.TestCase]:
    """The test cases by name, read by junitparser's xunit2 flavour, which knows Surefire's rerun and flaky elements."""
    return {case.name: cast("xunit2.TestCase", case) for suite in xunit2.JUnitXml.fromstring(xml.encode("utf-8")) for case in suite}


def ctrf_report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(report, CTRF_SCHEMA)
    return report


@pytest.mark.parametrize("vendor", sorted(BASE_INPUTS))
def test_every_vendor_writes_reports_that_parse_with_the_right_counts(vendor: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_with_reports(vendor, "mixed", sandbox, tmp_path)
    assert run.outputs["junit-file"] == "reports/junit.xml"
    assert run.outputs["ctrf-file"] == "reports/ctrf/results.json"
    counts = {name: int(run.outputs[name]) for name in ("total", "passed", "failed", "errored", "skipped", "pending")}
    # A run that went wrong beyond its tests (a problem, an error, a timeout) gets one more, errored, entry.
    run_level = int(bool(run.results["problems"]) or run.outputs["status"] in ("error", "timeout", "cancelled"))
    assert counts["total"] > 0, run.log

    junit = JUnitXml.fromfile(str(tmp_path / "reports/junit.xml"))
    assert (junit.tests, junit.failures, junit.errors, junit.skipped) == (
        counts["total"] + run_level,
        counts["failed"],
        counts["errored"] + run_level,
        counts["skipped"] + counts["pending"],
    )
    names = sorted(name for name, _ in junit_cases(tmp_path / "reports/junit.xml"))
    assert names == sorted([test["name"] for test in run.results["tests"]] + [f"{run.results['vendor']} run"] * run_level)

    summary = ctrf_report(tmp_path / "reports/ctrf/results.json")["results"]["summary"]
    assert {key: summary[key] for key in ("tests", "passed", "failed", "skipped", "pending", "other")} == {
        "tests": counts["total"] + run_level,
        "passed": counts["passed"],
        "failed": counts["failed"] + counts["errored"] + run_level,
        "skipped": counts["skipped"],
        "pending": counts["pending"],
        "other": 0,
    }
    assert summary["start"] <= summary["stop"]
    # Every test has a suite, as in the JUnit report: its group, else the vendor's name.
    junit_suites = {case.name: suite.name for suite in JUnitXml.fromfile(str(tmp_path / "reports/junit.xml")) for case in suite}
    ctrf_suites = {test["name"]: test["suite"] for test in ctrf_report(tmp_path / "reports/ctrf/results.json")["results"]["tests"]}
    assert ctrf_suites == {name: [suite] for name, suite in junit_suites.items()}


def test_mixed_results_carry_messages_and_statuses(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_with_reports("autosana", "mixed", sandbox, tmp_path)
    assert run.exit_code == 1
    assert junit_cases(tmp_path / "reports/junit.xml") == [
        ("Login with valid credentials", "passed"),
        ("Checkout with expired card", "failure"),
        ("Reset password", "error"),
        ("Add to cart", "passed"),
    ]
    junit = JUnitXml.fromfile(str(tmp_path / "reports/junit.xml"))
    failure = next(result for suite in junit for case in suite for result in case.result if isinstance(result, Failure))
    assert failure.message == "Expected the error 'Card expired' but the payment page stayed blank."
    tests = ctrf_report(tmp_path / "reports/ctrf/results.json")["results"]["tests"]
    assert [(test["status"], test["rawStatus"]) for test in tests] == [
        ("passed", "passed"),
        ("failed", "failed"),
        ("failed", "errored"),
        ("passed", "passed"),
    ]
    assert tests[2]["message"] == "The app crashed while opening the reset screen."
    assert tests[1]["extra"]["url"].startswith("https://")


def test_reports_are_written_on_timeout_with_what_was_known(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_with_reports("autosana", "never", sandbox, tmp_path, timeout="1m")
    assert run.outputs["status"] == "timeout" and run.exit_code == 3
    cases = junit_cases(tmp_path / "reports/junit.xml")
    assert ("Autosana run", "error") in cases
    assert [outcome for name, outcome in cases if name != "Autosana run"] == ["skipped"] * int(run.outputs["pending"])
    summary = ctrf_report(tmp_path / "reports/ctrf/results.json")["results"]["summary"]
    assert summary["pending"] == int(run.outputs["pending"]) and summary["failed"] == 1


def test_reports_are_written_when_the_vendor_errors(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_with_reports("autosana", "pass+down", sandbox, tmp_path)
    assert run.outputs["status"] == "error"
    assert junit_cases(tmp_path / "reports/junit.xml") == [("Autosana run", "error")]
    assert ctrf_report(tmp_path / "reports/ctrf/results.json")["results"]["tests"][0]["message"] == run.results["reason"]


def test_no_report_inputs_write_nothing_and_outputs_are_empty(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("pass", "passed", 0), sandbox, tmp_path)
    assert run.outputs["junit-file"] == "" and run.outputs["ctrf-file"] == ""
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/tmp/junit.xml", "must be a path relative to the workspace"), ("../junit.xml", "leads outside it"), ("a/../../x.xml", "leads outside it")],
)
def test_report_paths_must_stay_in_the_workspace(value: str, expected: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("pass", "error", 2, inputs={"junit-file": value}), sandbox, tmp_path)
    assert run.outputs["status"] == "error" and run.exit_code == 2
    assert "Input 'junit-file' must" in run.log and expected in run.log
    assert run.requests == []  # nothing was started


def test_a_file_from_an_earlier_step_is_not_overwritten(sandbox: SandboxServer, tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/ctrf.json").write_text("earlier step", encoding="utf-8")
    run = run_case("autosana", Case("pass", "error", 2, inputs={"ctrf-file": "reports/ctrf.json"}), sandbox, tmp_path)
    assert run.outputs["status"] == "error"
    assert "Input 'ctrf-file': 'reports/ctrf.json' already exists" in run.log
    assert (tmp_path / "reports/ctrf.json").read_text(encoding="utf-8") == "earlier step"
    assert run.requests == []


def test_a_path_that_cannot_be_written_is_an_error_naming_the_input(sandbox: SandboxServer, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    run = run_case("autosana", Case("pass", "error", 2, inputs={"junit-file": "blocker/junit.xml"}), sandbox, tmp_path)
    assert run.outputs["status"] == "error" and run.exit_code == 2
    assert "Input 'junit-file': could not write 'blocker/junit.xml'" in run.log
    assert run.outputs["junit-file"] == ""
    assert "could not write" in run.summary


def test_vendor_text_that_xml_cannot_carry_is_replaced_not_fatal() -> None:
    hostile = TestResult("bell \x07 <b>&", TestStatus.FAILED, message="nul \x00 ]]> end", group="g\x1b")
    outcome = Outcome("Vendor", Verdict(RunStatus.FAILED, "1 failed"), Snapshot(tests=(hostile,), done=True))
    junit = JUnitXml.fromstring(junit_xml(outcome).encode("utf-8"))
    case = next(iter(next(iter(junit))))
    assert case.name == "bell \ufffd <b>&"
    assert case.result[0].message == "nul \ufffd ]]> end"
    report = json.loads(ctrf_json(outcome, stop_ms=2_000))
    jsonschema.validate(report, CTRF_SCHEMA)
    assert report["results"]["tests"][0]["name"] == "bell \x07 <b>&"  # JSON carries any text


def test_a_secret_in_vendor_text_is_redacted_from_the_files(tmp_path: Path) -> None:
    # The sandbox echoes nothing secret, so check the redaction hook the writer is given.
    outcome = Outcome("Vendor", Verdict(RunStatus.FAILED, "x"), Snapshot(tests=(TestResult("t", TestStatus.FAILED, message="key=s3cret"),)))
    written = write_reports(
        outcome, ReportFiles(Path("j.xml"), Path("c.json")), workspace=tmp_path, stop_ms=0, redact=lambda text: text.replace("s3cret", "***")
    )
    assert written == {"junit-file": "j.xml", "ctrf-file": "c.json"}
    for name in ("j.xml", "c.json"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "s3cret" not in text and "key=***" in text


def test_retried_tests_follow_surefire_in_junit_and_ctrfs_retry_fields() -> None:
    flaky = TestResult("Login", TestStatus.PASSED, identity="t-1", retries=1, attempts=("timed out",), history="flaky")
    stayed = TestResult("Checkout", TestStatus.ERRORED, identity="t-2", retries=2, attempts=("first", ""), message="third", url="https://v.example/3")
    plain = TestResult("Search", TestStatus.FAILED, message="once")
    outcome = Outcome("Vendor", Verdict(RunStatus.FAILED, "2 of 3 tests failed"), Snapshot((flaky, stayed, plain), done=True))
    cases = surefire_cases(junit_xml(outcome))
    # Passed after failing: no failure, a <flakyFailure> per failed attempt (its text in a <stackTrace>, as Surefire writes it).
    assert not cases["Login"].result
    assert [(f.message, f.type, f.stack_trace) for f in cases["Login"].flaky_failures()] == [("timed out", "failed", "timed out")]
    # Failed every time: the first failure stays the <error>, each failed re-run a <rerunFailure>, the last with the link.
    (error,) = cases["Checkout"].result
    assert (type(error), error.message, error.text) == (Error, "first", "first")
    assert [(f.message, f.stack_trace) for f in cases["Checkout"].rerun_failures()] == [("", None), ("third", "third\nhttps://v.example/3")]
    assert not cases["Search"].rerun_failures() and cases["Search"].result[0].message == "once"
    report = json.loads(ctrf_json(outcome, stop_ms=1000))
    jsonschema.validate(report, CTRF_SCHEMA)
    tests = {test["name"]: test for test in report["results"]["tests"]}
    assert (tests["Login"]["flaky"], tests["Login"]["retries"], tests["Login"]["retryAttempts"]) == (
        True,
        1,
        [{"attempt": 1, "status": "failed", "message": "timed out"}],
    )
    assert (tests["Checkout"]["flaky"], tests["Checkout"]["retries"]) == (False, 2)
    assert tests["Checkout"]["retryAttempts"] == [{"attempt": 1, "status": "failed", "message": "first"}, {"attempt": 2, "status": "failed"}]
    assert not {"flaky", "retries", "retryAttempts"} & set(tests["Search"])
    assert report["results"]["summary"]["flaky"] == 1


def test_results_json_carries_each_tests_retries_attempts_and_history() -> None:
    flaky = TestResult("Login", TestStatus.PASSED, identity="t-1", retries=1, attempts=("timed out",), history="flaky")
    outcome = Outcome("Vendor", Verdict(RunStatus.PASSED, "1 test passed"), Snapshot((flaky,), done=True))
    (test,) = json.loads(results_json(outcome))["tests"]
    assert (test["identity"], test["retries"], test["attempts"], test["history"]) == ("t-1", 1, ["timed out"], "flaky")
