"""JUnit XML and CTRF JSON report files built from the normalized results, for test-report actions to pick up."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suiterun.errors import InputError
from suiterun.results import Outcome, RunStatus, TestResult, TestStatus
from suiterun.workspace_files import give_to_workspace_owner

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot carry at all; vendor text holding them would make the file unreadable.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# CTRF knows passed/failed/skipped/pending/other. An errored test (crashed,
# terminated, failed to start) is `failed` so that every CTRF tool counts it as a
# failure; its `rawStatus` keeps "errored" (AIVA's own reports do the same with
# rawStatus "FailedToStart").
CTRF_STATUS = {
    TestStatus.PASSED: "passed",
    TestStatus.FAILED: "failed",
    TestStatus.ERRORED: "failed",
    TestStatus.SKIPPED: "skipped",
    TestStatus.PENDING: "pending",
}
PENDING_MESSAGE = "not finished when the action stopped waiting"
# The JUnit `type` of a failed attempt in a <rerunFailure> or <flakyFailure>: the results keep each attempt's message,
# not whether it failed or errored (CTRF calls both `failed`).
RETRIED_ATTEMPT_TYPE = "failed"


@dataclass(frozen=True)
class ReportFiles:
    """The report files asked for, as workspace-relative paths (None: not asked for)."""

    junit: Path | None = None
    ctrf: Path | None = None


def run_level_test(outcome: Outcome) -> TestResult | None:
    """A stand-in test for a run that went wrong beyond its tests (a problem, an error,
    a timeout, a cancellation), so a report is never greener than the `status` output."""
    wrong_beyond_tests = outcome.snapshot.problems or outcome.status in (RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.CANCELLED)
    if not wrong_beyond_tests:
        return None
    return TestResult(f"{outcome.vendor} run", TestStatus.ERRORED, url=outcome.snapshot.run_url, message=outcome.verdict.reason)


def report_tests(outcome: Outcome) -> list[TestResult]:
    extra = run_level_test(outcome)
    return [*outcome.snapshot.tests, *([extra] if extra else [])]


def junit_xml(outcome: Outcome) -> str:
    """One <testsuite> per group (tests without a group share one named after the vendor)."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only when a report is written (start-up time)

    tests = report_tests(outcome)
    groups: dict[str, list[TestResult]] = {}
    for test in tests:
        groups.setdefault(test.group or outcome.vendor, []).append(test)
    root = ET.Element("testsuites", {"name": _xml_text(outcome.vendor), **_junit_counts(tests)})
    for group, members in groups.items():
        suite = ET.SubElement(root, "testsuite", {"name": _xml_text(group), **_junit_counts(members)})
        for test in members:
            _junit_case(suite, test, group)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_counts(tests: list[TestResult]) -> dict[str, str]:
    def count(*statuses: TestStatus) -> str:
        return str(sum(test.status in statuses for test in tests))

    return {
        "tests": str(len(tests)),
        "failures": count(TestStatus.FAILED),
        "errors": count(TestStatus.ERRORED),
        "skipped": count(TestStatus.SKIPPED, TestStatus.PENDING),
        "time": _seconds(sum(test.duration or 0.0 for test in tests)),
    }


def _junit_case(suite: ET.Element, test: TestResult, group: str) -> None:
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    case = ET.SubElement(suite, "testcase", name=_xml_text(test.name), classname=_xml_text(group), time=_seconds(test.duration or 0.0))
    body = "\n".join([test.message, *(f"{d.label}: {d.text} {d.url}".rstrip() for d in test.details), test.url]).strip()
    # Each attempt as (message, text), oldest first: the failed ones before this result, then this one. Retries follow
    # Maven Surefire: the first failure stays the <failure> (or <error>), each failed re-run is a <rerunFailure>; a test
    # that passed on a re-run has a <flakyFailure> for each failed attempt. Their text is in a <stackTrace>, as there.
    attempts = [*((message, message) for message in test.attempts), (test.message, body)]
    if test.is_failure:
        kind, kind_type = ("failure", "failed") if test.status is TestStatus.FAILED else ("error", "errored")
        (message, text), *reruns = attempts
        ET.SubElement(case, kind, message=_xml_text(message), type=kind_type).text = _xml_text(text)
        for message, text in reruns:
            _junit_interim(case, "rerunFailure", message, text)
    elif test.status is TestStatus.PASSED:
        for message, text in attempts[:-1]:
            _junit_interim(case, "flakyFailure", message, text)
    elif test.status is TestStatus.SKIPPED:
        ET.SubElement(case, "skipped", message=_xml_text(test.message))
    elif test.status is TestStatus.PENDING:
        ET.SubElement(case, "skipped", message=f"pending: {PENDING_MESSAGE}")
    if test.url:
        ET.SubElement(case, "system-out").text = _xml_text(test.url)


def _junit_interim(case: ET.Element, kind: str, message: str, text: str) -> None:
    """A Surefire <rerunFailure> or <flakyFailure>: an earlier failed attempt of the test."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    attempt = ET.SubElement(case, kind, message=_xml_text(message), type=RETRIED_ATTEMPT_TYPE)
    ET.SubElement(attempt, "stackTrace").text = _xml_text(text)


def ctrf_json(outcome: Outcome, *, stop_ms: int) -> str:
    """A CTRF report (https://ctrf.io): `results.tool`, `summary` counts and times, and `tests`."""
    tests = [_ctrf_test(test, outcome.vendor) for test in report_tests(outcome)]
    by_status = {status: sum(test["status"] == status for test in tests) for status in ("passed", "failed", "skipped", "pending", "other")}
    flaky = sum(bool(test.get("flaky")) for test in tests)
    report = {
        "reportFormat": "CTRF",
        "specVersion": "0.0.0",
        "generatedBy": "suiterun",
        "results": {
            "tool": {"name": outcome.vendor},
            "summary": {"tests": len(tests), **by_status, "flaky": flaky, "start": stop_ms - round(outcome.duration * 1000), "stop": stop_ms},
            "tests": tests,
            "extra": {
                "status": outcome.status.value,
                "reason": outcome.verdict.reason,
                "runIds": list(outcome.snapshot.run_ids),
                "runUrl": outcome.snapshot.run_url,
            },
        },
    }
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def _ctrf_test(test: TestResult, vendor: str) -> dict[str, Any]:
    """One CTRF test; its `suite` is its group, or the vendor's name (as the JUnit report groups it)."""
    entry: dict[str, Any] = {
        "name": test.name or "(unnamed test)",
        "status": CTRF_STATUS[test.status],
        "rawStatus": test.status.value,
        "duration": round((test.duration or 0.0) * 1000),
    }
    message = PENDING_MESSAGE if test.status is TestStatus.PENDING and not test.message else test.message
    if message:
        entry["message"] = message
    entry["suite"] = [test.group or vendor]
    if test.retries:
        # CTRF's retries: the re-runs; `retryAttempts` the failed attempts before this result; `flaky` a pass after them.
        entry["retries"] = test.retries
        entry["retryAttempts"] = [
            {"attempt": number, "status": CTRF_STATUS[TestStatus.FAILED], **({"message": message} if message else {})}
            for number, message in enumerate(test.attempts, 1)
        ]
        entry["flaky"] = test.status is TestStatus.PASSED
    extra: dict[str, Any] = {key: value for key, value in (("id", test.id), ("url", test.url)) if value}
    if test.details:
        extra["details"] = [{"label": d.label, "text": d.text, "url": d.url} for d in test.details]
    if extra:
        entry["extra"] = extra
    return entry


def write_reports(outcome: Outcome, files: ReportFiles, *, workspace: Path, stop_ms: int, redact: Callable[[str], str]) -> dict[str, str]:
    """Write the asked-for files (secrets redacted); return the `junit-file`/`ctrf-file` outputs."""
    written = {"junit-file": "", "ctrf-file": ""}
    builders: tuple[tuple[str, Path | None, Callable[[], str]], ...] = (
        ("junit-file", files.junit, lambda: junit_xml(outcome)),
        ("ctrf-file", files.ctrf, lambda: ctrf_json(outcome, stop_ms=stop_ms)),
    )
    for name, path, build in builders:
        if path is None:
            continue
        target = workspace / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(redact(build()), encoding="utf-8")
            give_to_workspace_owner(target, workspace)
        except OSError as exc:
            raise InputError(f"Input '{name}': could not write '{path}' ({exc.strerror or exc}); choose a file path the action can create.") from None
        written[name] = path.as_posix()
    return written


def check_not_written_yet(name: str, path: Path | None, workspace: Path) -> Path | None:
    """Refuse a report path that already exists: an earlier step (another instance of the
    action in this job, say) wrote it, and overwriting would silently lose its results."""
    if path is not None and (workspace / path).exists():
        raise InputError(
            f"Input '{name}': '{path.as_posix()}' already exists, probably written by an earlier step of this job; "
            "give every step its own file, e.g. reports/${{ matrix.app }}-results."
        )
    return path


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)
