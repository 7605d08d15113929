"""AIVA: single test runs (by id or name) read with one status request per poll, or one batch by labels read as a CTRF report."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from suiterun.errors import InputError, VendorError
from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs, parse_json, parse_list, parse_positive_int, parse_variables
from suiterun.results import Snapshot, TestResult, TestStatus
from suiterun.text import describe_body

from .base import Reporter, StatusWords, VendorAdapter

# `Passed`, `Failed` and `FailedToStart` are AIVA's own words; a batch report adds
# the CTRF words (passed, failed, skipped, pending, other). The in-progress and
# cancelled-like words are guesses, because the single-run status body is not
# documented: a guess maps only to pending or a failure, never to a pass, and any
# other word stays pending (with a warning) until the timeout.
RUN_STATUS = {
    "passed": TestStatus.PASSED,
    "failed": TestStatus.FAILED,
    "failedtostart": TestStatus.ERRORED,
    "cancelled": TestStatus.ERRORED,
    "canceled": TestStatus.ERRORED,
    "aborted": TestStatus.ERRORED,
    "skipped": TestStatus.SKIPPED,
    **dict.fromkeys(
        ("pending", "queued", "scheduled", "created", "starting", "started", "running", "inprogress", "in_progress", "in progress"),
        TestStatus.PENDING,
    ),
}
# Where the undocumented `GET /v1/test-runs` body may keep its list, and each
# entry its id, status, name, link and message (keys matched in any case).
RUN_LIST_KEYS = ("testRuns", "items", "data", "results")
RUN_ID_KEYS = ("testRunId", "id")
RUN_STATUS_KEYS = ("status", "state", "result")
RUN_NAME_KEYS = ("testName", "name")
RUN_LINK_KEYS = ("testResultLink", "url")
# Inputs that shape a batch: without `labels` they would be silently ignored.
BATCH_ONLY_INPUTS = ("max-agents", "batch-name", "variables-per-test")
# AIVA's own tools separate labels with `;` (https://github.com/aiva-actions/runner/blob/main/src/helpers.ts,
# parseLabels), so `smoke;regression` copied from them is two labels here too, as are commas and lines.
LABEL_SEPARATORS = re.compile(r"[;,\n]")
# AIVA's own tools always send maxNumberOfAgents, 1 unless told otherwise (runner's --max-number-of-agents
# default; aiva-actions/run makes it required); what AIVA does without it is undocumented.
DEFAULT_MAX_AGENTS = 1
# How a single run names its test: the body field, and the word for messages.
BY_ID, BY_NAME = ("testId", "id"), ("testName", "name")


@dataclass(frozen=True)
class AivaOptions:
    test_ids: tuple[str, ...] = ()
    test_names: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    variables: dict[str, str] | None = None
    gateway: str = ""
    max_agents: int = DEFAULT_MAX_AGENTS
    batch_name: str = ""
    variables_per_test: dict[str, dict[str, str]] | None = None


class AivaAdapter(VendorAdapter[AivaOptions]):
    name = "aiva"
    title = "AIVA"
    default_api_url = "https://api.aiva.works"
    docs_url = "https://docs.aiva.works"
    can_retry = True
    inputs = ("tests", "variables", "test-names", "labels", "gateway", "max-agents", "batch-name", "variables-per-test")

    def __init__(self, client: VendorClient, options: AivaOptions, reporter: Reporter) -> None:
        super().__init__(client, options, reporter)
        self.status_words = StatusWords(self.title, RUN_STATUS, reporter)
        self.started: tuple[TestResult, ...] = ()  # single runs, in trigger order
        self.batch_id = ""

    @classmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> AivaOptions:
        if urlsplit(common.api_url).hostname == "app.aiva.works":
            raise InputError(
                "Input 'api-url' points at AIVA's web app (app.aiva.works); use its API, https://api.aiva.works, or leave api-url empty."
            )
        test_ids, test_names, labels = parse_list(inputs.get("tests")), _names(inputs.get("test-names")), _labels(inputs.get("labels"))
        if labels and (test_ids or test_names):
            singles = " and ".join(f"'{name}'" for name in inputs.given(("tests", "test-names")))
            raise InputError(f"AIVA takes either input 'labels' (one batch) or {singles} (single test runs), not both; remove one of them.")
        if not (labels or test_ids or test_names):
            raise InputError("AIVA needs input 'tests' (test ids), 'test-names' or 'labels'; none is set.")
        batch_only = inputs.given(BATCH_ONLY_INPUTS)
        if batch_only and not labels:
            names = ", ".join(f"'{name}'" for name in batch_only)
            raise InputError(f"Input {names} applies only to an AIVA batch, which input 'labels' starts; set 'labels' or remove {names}.")
        if common.retry_failed and inputs.given(("variables-per-test",)):
            # A batch's failed tests are started again as single runs by name, which take only shared variables.
            raise InputError(
                "Inputs 'variables-per-test' and 'retry-failed' cannot be used together: a batch's failed tests are started again "
                "as single runs by name, and AIVA's report does not say which test id each one is, so their own variables "
                "could not be sent; remove one of them."
            )
        max_agents = inputs.get("max-agents")
        return AivaOptions(
            test_ids=test_ids,
            test_names=test_names,
            labels=labels,
            variables=parse_variables("variables", inputs.get("variables")) or None,
            gateway=inputs.get("gateway"),
            max_agents=parse_positive_int("max-agents", max_agents) if max_agents else DEFAULT_MAX_AGENTS,
            batch_name=inputs.get("batch-name"),
            variables_per_test=_variables_per_test(inputs.get("variables-per-test")),
        )

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {"X-API-KEY": api_key}

    @classmethod
    def describe_error(cls, status: int, vendor_message: str, what: str) -> str | None:
        said = f": {vendor_message}" if vendor_message else ""
        if status in (401, 403):
            return (
                f"AIVA rejected the API key (HTTP {status}{said}). Check that the api-key secret holds an AIVA API key "
                "(they start with aiva_; create one at https://app.aiva.works/configurations?page=api-keys)."
            )
        if status == 404:
            return f"AIVA found nothing for {what} (HTTP 404{said}). Check the test ids, names or labels, and that api-url is https://api.aiva.works."
        return None

    def trigger(self) -> Snapshot:
        if self.options.labels:
            return self._start_batch()
        return self._start_runs([(BY_ID, test_id) for test_id in self.options.test_ids] + [(BY_NAME, name) for name in self.options.test_names])

    def poll(self) -> Snapshot:
        return self._read_batch() if self.batch_id else self._read_runs()

    def retry(self, tests: Sequence[TestResult]) -> Snapshot:
        """Each test again as a single run: by its test id when it was started by one, else by its name (a single run
        started by name, or a batch's test, which the batch's report names); `poll` then reads these runs only."""
        self.batch_id = ""
        return self._start_runs([(BY_ID if test.identity in self.options.test_ids else BY_NAME, test.identity) for test in tests])

    def _start_runs(self, requested: list[tuple[tuple[str, str], str]]) -> Snapshot:
        """One `POST /v1/test-runs` per requested test (by id or by name), each with the same variables and gateway."""
        options = self.options
        shared: dict[str, Any] = {}
        if options.variables:
            shared["variables"] = options.variables
        if options.gateway:
            shared["gatewayName"] = options.gateway
        started: list[TestResult] = []
        for (field, kind), value in requested:
            try:
                answer = self.client.post("/v1/test-runs", what=f"test {kind} '{value}'", body={field: value, **shared})
                run_id = answer.get("testRunId") if isinstance(answer, dict) else None
                if not run_id:
                    raise VendorError(f"AIVA did not start test {kind} '{value}': it answered {describe_body(answer)}, without a testRunId.")
            except VendorError as exc:
                if not started:
                    raise
                # The runs started so far keep running at AIVA: name them so they can be found.
                raise VendorError(f"{exc} AIVA had already started test runs {', '.join(test.id for test in started)}.") from None
            # Known across runs by what it was started by: its test id, or its name.
            started.append(TestResult(name=value, status=TestStatus.PENDING, id=str(run_id), identity=value))
        self.started = tuple(started)
        return Snapshot(tests=self.started, run_ids=tuple(test.id for test in started))

    def _read_runs(self) -> Snapshot:
        """The status of every started run in one `GET /v1/test-runs?TestRunIds=..&TestRunIds=..`."""
        run_ids = [test.id for test in self.started]
        what = f"the status of {len(run_ids)} test runs"
        body = self.client.get("/v1/test-runs", what=what, params=[("TestRunIds", run_id) for run_id in run_ids])
        entries = runs_by_id(body, what)
        # A requested run missing from the body stays pending: AIVA may not list it yet.
        tests = tuple(self._run_result(test, entries[test.id]) if test.id in entries else test for test in self.started)
        return Snapshot(
            tests,
            done=all(test.status is not TestStatus.PENDING for test in tests),
            run_ids=tuple(run_ids),
            run_url=_only_link(tests),
        )

    def _run_result(self, started: TestResult, entry: dict[str, Any]) -> TestResult:
        word = _field(entry, RUN_STATUS_KEYS)
        if word is None:
            raise VendorError(
                f"AIVA listed test run {started.id} without a status, state or result: {describe_body(entry)}. "
                "This status format is undocumented; please report it to the action's maintainers."
            )
        return TestResult(
            name=str(_field(entry, RUN_NAME_KEYS) or started.name),
            status=self.status_words(word),
            id=started.id,
            identity=started.identity,
            url=str(_field(entry, RUN_LINK_KEYS) or ""),
            message=str(_field(entry, ("message",)) or ""),
        )

    def _start_batch(self) -> Snapshot:
        """One `POST /v1/batches` for every test carrying one of the labels."""
        options = self.options
        optional = {
            "name": options.batch_name,
            "globalVariablesOverrides": options.variables,
            "variablesOverridesPerTest": options.variables_per_test,
            "gatewayName": options.gateway,
        }
        # A number, as on AIVA's API page; AIVA's own tools send the input's text ("1"), see docs/vendors/aiva.md.
        body = {"labels": list(options.labels), "maxNumberOfAgents": options.max_agents, **{key: value for key, value in optional.items() if value}}
        answer = self.client.post("/v1/batches", what=f"the batch for labels '{', '.join(options.labels)}'", body=body)
        batch_id = answer.get("testBatchId") if isinstance(answer, dict) else None
        if not batch_id:
            raise VendorError(f"AIVA did not start a batch: it answered {describe_body(answer)}, without a testBatchId.")
        self.batch_id = str(batch_id)
        return Snapshot(run_ids=(self.batch_id,))

    def _read_batch(self) -> Snapshot:
        """The batch's CTRF report; the batch is running while `results.summary.pending` is above 0."""
        what = f"the report of batch {self.batch_id}"
        # Accept selects the format: JSON is a CTRF report, XML would be JUnit.
        report = self.client.get(f"/v1/batches/{self.batch_id}", what=what, headers={"Accept": "application/json"})
        results = report.get("results") if isinstance(report, dict) else None
        summary = results.get("summary") if isinstance(results, dict) else None
        pending = summary.get("pending") if isinstance(summary, dict) else None
        listed = (results.get("tests") or []) if isinstance(results, dict) else None
        if not isinstance(summary, dict) or not isinstance(pending, int) or not isinstance(listed, list):
            raise VendorError(f"AIVA answered {what} with {describe_body(report)}, not a CTRF report with results.summary.pending.")
        tests = tuple(self._ctrf_test(test) for test in listed if isinstance(test, dict))
        done = pending == 0
        return Snapshot(
            tests,
            done=done,
            run_ids=(self.batch_id,),
            run_url=_batch_link(summary) or _only_link(tests),
            problems=tuple(_summary_mismatch(summary, tests)) if done else (),
        )

    def _ctrf_test(self, test: dict[str, Any]) -> TestResult:
        extra = test["extra"] if isinstance(test.get("extra"), dict) else {}
        raw, ctrf = test.get("rawStatus"), test.get("status")
        # AIVA's raw word is the more precise one (FailedToStart is a CTRF `failed`);
        # the CTRF word covers raw words this action does not know.
        known = next((word for word in (raw, ctrf) if str(word or "").lower() in self.status_words.words), None)
        status = self.status_words(known if known is not None else raw or ctrf)
        message = str(test.get("message") or "")
        if str(raw).lower() == "failedtostart" and not message:
            message = "The test failed to start."
        duration = test.get("duration")
        return TestResult(
            name=str(test.get("name") or extra.get("testRunId") or "unnamed test"),
            status=status,
            id=str(extra.get("testRunId") or ""),
            url=str(extra.get("testResultLink") or ""),
            duration=duration / 1000 if isinstance(duration, int | float) else None,
            message=message,
            group=str(test.get("suite") or ""),
            identity=str(test.get("name") or ""),  # a batch's report names its tests; its run ids are new every run
        )


def runs_by_id(body: Any, what: str) -> dict[str, dict[str, Any]]:
    """Run id -> entry, from AIVA's undocumented status body: a list of runs, or an
    object holding one under testRuns/items/data/results. Unreadable is a VendorError."""
    entries = body if isinstance(body, list) else _field(body, RUN_LIST_KEYS) if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise VendorError(
            f"AIVA answered {what} with {describe_body(body)}, which holds no list of runs (under testRuns, items, data or results). "
            "This status format is undocumented; please report it to the action's maintainers."
        )
    runs = {str(run_id): entry for entry in entries if isinstance(entry, dict) and (run_id := _field(entry, RUN_ID_KEYS)) is not None}
    if entries and not runs:
        raise VendorError(
            f"AIVA answered {what} with runs that have no testRunId or id: {describe_body(entries)}. "
            "This status format is undocumented; please report it to the action's maintainers."
        )
    return runs


def _field(entry: dict[str, Any], names: tuple[str, ...]) -> Any:
    """The first of `names` that `entry` holds with a value, keys compared in any case (the body is undocumented)."""
    lowered = {str(key).lower(): value for key, value in entry.items()}
    return next((lowered[name.lower()] for name in names if lowered.get(name.lower()) not in (None, "")), None)


def _names(value: str) -> tuple[str, ...]:
    """Test names one per line (a name may then hold commas), or comma-separated on one line."""
    separator = "\n" if "\n" in value else ","
    return tuple(name.strip() for name in value.split(separator) if name.strip())


def _variables_per_test(value: str) -> dict[str, dict[str, str]] | None:
    if not value:
        return None
    overrides = {}
    for test_id, variables in parse_json("variables-per-test", value, dict).items():
        if not isinstance(variables, dict):
            raise InputError(
                f"Input 'variables-per-test': the value for test '{test_id}' must be a JSON object of variables, got {type(variables).__name__}."
            )
        overrides[str(test_id)] = parse_variables("variables-per-test", json.dumps(variables))
    return overrides


def _labels(value: str) -> tuple[str, ...]:
    return tuple(label.strip() for label in LABEL_SEPARATORS.split(value) if label.strip())


def _batch_link(summary: dict[str, Any]) -> str:
    """The batch's page, `results.summary.extra.testBatchLink`, which AIVA's own summary template links
    (https://github.com/aiva-actions/runner/blob/main/summary-template.hbs)."""
    extra = summary.get("extra")
    link = extra.get("testBatchLink") if isinstance(extra, dict) else None
    return link if isinstance(link, str) and link.startswith(("https://", "http://")) else ""


def _only_link(tests: tuple[TestResult, ...]) -> str:
    # AIVA links each test's result, not the whole run: a run of one test has one obvious link.
    return tests[0].url if len(tests) == 1 else ""


def _summary_mismatch(summary: dict[str, Any], tests: tuple[TestResult, ...]) -> list[str]:
    """The report's counters must agree with its listed tests (AIVA's own tool fails on summary.failed > 0)."""
    problems = []
    counted, failed = summary.get("tests"), summary.get("failed")
    if isinstance(counted, int) and counted != len(tests):
        problems.append(f"AIVA's report counts {counted} tests but lists {len(tests)}; the batch cannot be judged as passed")
    listed_failures = sum(1 for test in tests if test.is_failure)
    if isinstance(failed, int) and failed > listed_failures:
        problems.append(f"AIVA's report counts {failed} failed tests but lists {listed_failures}")
    return problems
