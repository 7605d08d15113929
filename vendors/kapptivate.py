"""Kapptivate: run tests through the continuous_integration endpoint with short-lived JWTs, judged from the result's status and counters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from suiterun.context import CIContext
from suiterun.errors import InputError, VendorError
from suiterun.http import Retry, VendorClient, VendorHTTPError
from suiterun.inputs import Common, Inputs, parse_json, parse_list, parse_positive_int, parse_variables
from suiterun.results import Detail, Snapshot, TestResult, TestStatus
from suiterun.text import describe_body

from .base import Reporter, StatusWords, VendorAdapter

REFRESH_PATH = "/api/auth/refresh-token/"
REFRESH_WHAT = "the token request (POST /api/auth/refresh-token/)"
TRIGGER_PATH = "/api/v1/continuous_integration/"
# Tokens live about 2 minutes; refreshing once one is 90 s old leaves room for a slow request.
TOKEN_MAX_AGE = 90.0

# Execution statuses from Kapptivate's own CLI. `timed out` (the vendor's own
# limit) and `maintenance` (the platform was under maintenance) are not
# assertions that failed, so they count as errored: never a pass. A cancelled
# test is skipped; a cancelled run makes the whole run `cancelled`.
STATUS = {
    "success": TestStatus.PASSED,
    "failed": TestStatus.FAILED,
    "failure": TestStatus.FAILED,
    "ongoing": TestStatus.PENDING,
    "pending": TestStatus.PENDING,
    "canceled": TestStatus.SKIPPED,
    "cancelled": TestStatus.SKIPPED,
    "timed out": TestStatus.ERRORED,
    "maintenance": TestStatus.ERRORED,
}
CANCELLED = {"canceled", "cancelled"}
EXPLANATIONS = {"timed out": " (it hit Kapptivate's own time limit)", "maintenance": " (the platform was under maintenance)"}
# Undocumented: the documented result holds only counters. If a result lists
# per-test entries under one of these keys, they become the rows; otherwise the
# rows are built from the counters (see _rows_from_counts).
TEST_LIST_KEYS = ("tests", "test_results", "executions")


@dataclass(frozen=True)
class KapptivateOptions:
    # The api-key is a refresh token exchanged for a JWT again every ~90 s, so the adapter needs it, not a header.
    refresh_token: str = field(repr=False)
    test_ids: tuple[int, ...]
    devices: dict[str, Any]
    run_name: str
    variables: dict[str, str] | None = None
    variable_group_id: int | None = None


class KapptivateAdapter(VendorAdapter[KapptivateOptions]):
    name = "kapptivate"
    title = "Kapptivate"
    default_api_url = ""  # every customer has their own host, https://<domain>.kapptivate.com
    docs_url = "https://help.kapptivate.com/hc/en-us/articles/19569125396370-How-to-integrate-kapptivate-API-within-your-CI-CD"
    inputs = ("tests", "variables", "devices", "variable-group-id", "run-name")

    def __init__(self, client: VendorClient, options: KapptivateOptions, reporter: Reporter) -> None:
        super().__init__(client, options, reporter)
        self.status_words = StatusWords(self.title, STATUS, reporter)
        self.token = ""
        self.token_at = 0.0
        self.result_id = ""
        self.result_url = ""

    @classmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> KapptivateOptions:
        test_ids = tuple(_test_id(item) for item in parse_list(inputs.get("tests")))
        if not test_ids:
            raise InputError("Kapptivate needs input 'tests': the ids of the tests to run (the number at the end of the test's edit URL).")
        if not inputs.get("devices"):
            raise InputError('Kapptivate needs input \'devices\': a JSON object of the devices to run on, e.g. {"your_device": "your_device_name"}.')
        devices = parse_json("devices", inputs.get("devices"), dict)
        if not devices:
            raise InputError("Input 'devices' is an empty JSON object; name at least one device to run the tests on.")
        group = inputs.get("variable-group-id")
        return KapptivateOptions(
            refresh_token=common.api_key,
            test_ids=test_ids,
            devices=devices,
            run_name=inputs.get("run-name") or default_run_name(common.context),
            variables=parse_variables("variables", inputs.get("variables")) or None,
            variable_group_id=parse_positive_int("variable-group-id", group) if group else None,
        )

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {}  # each request carries a short-lived JWT instead, see _authorized

    @classmethod
    def describe_error(cls, status: int, vendor_message: str, what: str) -> str | None:
        said = f": {vendor_message}" if vendor_message else ""
        if what == REFRESH_WHAT and status in (400, 401, 403):
            return (
                f"Kapptivate refused to issue a token for the API key (HTTP {status}{said}). "
                "Check that the api-key secret holds a valid Kapptivate API key (refresh token) for the host in api-url."
            )
        if status == 401:
            return f"Kapptivate rejected a freshly issued token for {what} (HTTP 401{said}). Check that api-url is the host the API key belongs to."
        if status == 403:
            # Kapptivate's docs: a new API key has no permissions until roles or groups are given to it.
            return f"Kapptivate refused {what} (HTTP 403{said}). Give the API key a role with access to these tests in Kapptivate's administration."
        return None

    def trigger(self) -> Snapshot:
        options = self.options
        tests: list[dict[str, Any]] = []
        for test_id in options.test_ids:
            test: dict[str, Any] = {"id": test_id, "direct_owners": options.devices}
            if options.variables:
                test["input_variables"] = options.variables
            tests.append(test)
        body: dict[str, Any] = {"name": options.run_name, "tests": tests, "options": {}}
        if options.variable_group_id is not None:
            body["variable_group_id"] = options.variable_group_id
        started = self._authorized(lambda auth: self.client.post(TRIGGER_PATH, what="the test run request", body=body, headers=auth))
        uri = started.get("result_uri") if isinstance(started, dict) else None
        # result_uri is a path from the host root; anything else could send the token to another host.
        if not isinstance(started, dict) or started.get("status") != "success" or not _is_root_path(uri):
            raise VendorError(f"Kapptivate did not start a run: it answered {describe_body(started)} (expected 'success' and a result_uri path).")
        host = urlsplit(self.client.base_url)
        self.result_url = f"{host.scheme}://{host.netloc}{uri}"
        self.result_id = str(started.get("result_id") or uri)
        return Snapshot(self._requested_rows(options.run_name), run_ids=(self.result_id,))

    def poll(self) -> Snapshot:
        what = f"result {self.result_id}"
        body = self._authorized(lambda auth: self.client.get(self.result_url, what=what, headers=auth))
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(result, dict):
            raise VendorError(f"Kapptivate answered {what} with {describe_body(body)}, not a test run result.")
        word = str(result.get("status") or "").strip().lower()
        run_status = self.status_words(word)
        listed = _listed_tests(body, result)
        run_name = str(body.get("name") or self.options.run_name)
        if run_status is TestStatus.PENDING:
            rows = [self._test(entry) for entry in listed] if listed else self._requested_rows(run_name)
            return Snapshot(tuple(rows), run_ids=(self.result_id,))

        counters = _counters(result, what)
        problems: list[str] = []
        if listed is not None:
            rows = [self._test(entry) for entry in listed]
            problems.extend(_counter_mismatch(counters, rows))
        elif counters is None:
            raise VendorError(f"Kapptivate's final {what} has neither nb_tests/nb_success nor a list of tests, so it cannot be judged.")
        else:
            rows = _rows_from_counts(run_name, counters, run_status, word, _duration(result.get("timing")))
        if run_status in (TestStatus.FAILED, TestStatus.ERRORED) and not any(row.is_failure for row in rows):
            problems.append(f"Kapptivate reports the run as '{word}'{EXPLANATIONS.get(word, '')} although no test is reported as failed")
        return Snapshot(tuple(rows), done=True, run_ids=(self.result_id,), problems=tuple(problems), cancelled=word in CANCELLED)

    def _authorized(self, send: Callable[[dict[str, str]], Any]) -> Any:
        """Send with a JWT younger than TOKEN_MAX_AGE; after a 401, once more with a fresh one."""
        if not self.token or self.client.deadline.clock.monotonic() - self.token_at >= TOKEN_MAX_AGE:
            self._refresh_token()
        try:
            return send(self._auth_header())
        except VendorHTTPError as exc:
            if exc.status != 401:
                raise
        self.reporter.info("Kapptivate rejected the current token (HTTP 401); asking for a new one and retrying once.")
        self._refresh_token()
        return send(self._auth_header())

    def _refresh_token(self) -> None:
        asked_at = self.client.deadline.clock.monotonic()  # the token's age counts from before the request, to be safe
        # Issuing a token creates nothing, so the request may be repeated like a read.
        body = self.client.post(REFRESH_PATH, what=REFRESH_WHAT, body={"refresh_token": self.options.refresh_token}, retry=Retry.READ)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token.strip():
            # Name only the fields: the body may hold a token under another name.
            shape = f"fields {', '.join(sorted(map(str, body)))}" if isinstance(body, dict) else type(body).__name__
            raise VendorError(f"Kapptivate answered {REFRESH_WHAT} without a 'token' ({shape}); check that api-url is your Kapptivate host.")
        self.reporter.mask(token)  # before it is used anywhere
        self.token, self.token_at = token, asked_at

    def _auth_header(self) -> dict[str, str]:
        return {"Authorization": f"JWT {self.token}"}

    def _requested_rows(self, run_name: str) -> tuple[TestResult, ...]:
        """One pending row per requested test, while the vendor lists none."""
        return tuple(TestResult(f"{run_name}: test {test_id}", TestStatus.PENDING, id=str(test_id)) for test_id in self.options.test_ids)

    def _test(self, entry: dict[str, Any]) -> TestResult:
        """A listed test. Only the fields below are kept: large per-step fields (screenshot_url_before,
        time_since_parent_start, and every screenshot but the failing step's) are dropped here."""
        status = self.status_words(entry.get("status"))
        test_id = str(entry.get("id") or entry.get("test_id") or "")
        failing = _failing_step(entry) if status in (TestStatus.FAILED, TestStatus.ERRORED) else None
        return TestResult(
            name=str(entry.get("name") or entry.get("test_name") or f"test {test_id or '?'}"),
            status=status,
            id=test_id,
            duration=_duration(entry.get("timing") or entry.get("duration")),
            message=str(entry.get("message") or entry.get("error") or ""),
            details=(failing,) if failing else (),
        )


def default_run_name(context: CIContext) -> str:
    """`<workflow> #<run number> <short sha>`, leaving out what the CI did not say."""
    parts = (context.workflow or "suiterun", f"#{context.run_number}" if context.run_number else "", context.git.commit_sha[:7])
    return " ".join(part for part in parts if part)


def _test_id(value: str) -> int:
    return parse_positive_int("tests", value, what="a list of Kapptivate test ids (whole numbers such as 1389)")


def _is_root_path(uri: Any) -> bool:
    return isinstance(uri, str) and uri.startswith("/") and not uri.startswith("//")


def _listed_tests(body: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]] | None:
    for source in (result, body):
        for key in TEST_LIST_KEYS:
            if isinstance(source.get(key), list):
                return [entry for entry in source[key] if isinstance(entry, dict)]
    return None


def _counters(result: dict[str, Any], what: str) -> tuple[int, int] | None:
    """(nb_tests, nb_success), None when absent; impossible values fail loudly."""
    total, success = result.get("nb_tests"), result.get("nb_success")
    if total is None and success is None:
        return None
    if not (isinstance(total, int) and isinstance(success, int)) or isinstance(total, bool) or isinstance(success, bool) or not 0 <= success <= total:
        raise VendorError(f"Kapptivate's {what} has unusable counters nb_tests={total!r}, nb_success={success!r}; the run cannot be judged.")
    return total, success


def _counter_mismatch(counters: tuple[int, int] | None, rows: list[TestResult]) -> list[str]:
    """The counters and the listed tests must agree; if they do not, say so and do not pass."""
    if counters is None:
        return []
    passed = sum(1 for row in rows if row.status is TestStatus.PASSED)
    if counters == (len(rows), passed):
        return []
    total, success = counters
    return [f"Kapptivate counts {total} tests and {success} successes but lists {len(rows)} tests with {passed} passed, so it cannot pass"]


def _rows_from_counts(run_name: str, counters: tuple[int, int], run_status: TestStatus, word: str, duration: float | None) -> list[TestResult]:
    """Rows that make the counts right when the result says only how many tests
    succeeded, not which: nb_success passed rows, then the others with the run's
    status (failed when the run claims success anyway)."""
    total, success = counters
    others = TestStatus.FAILED if run_status is TestStatus.PASSED else run_status
    unsuccessful = f"Kapptivate reports the run as '{word}' with {success} of {total} tests successful; it does not say which."
    return [
        TestResult(
            name=f"{run_name}: test {number} of {total}",
            status=TestStatus.PASSED if number <= success else others,
            duration=duration if total == 1 else None,  # the run's duration is the test's only when it ran alone
            message="" if number <= success else unsuccessful,
        )
        for number in range(1, total + 1)
    ]


def _failing_step(entry: dict[str, Any]) -> Detail | None:
    """The first step that did not succeed: its name, message and the screenshot after it (shown inline in the summary;
    details never reach the `results` output)."""
    for step in entry.get("steps") or []:
        if isinstance(step, dict) and str(step.get("status") or "success").lower() != "success":
            text = f"{step.get('name') or '?'} ({step.get('status')}): {step.get('message') or ''}"
            screenshot = step.get("screenshot_url_after")
            image = screenshot if isinstance(screenshot, str) else ""
            return Detail("Failing step", text.rstrip(": "), image, image=image)
    return None


def _duration(value: Any) -> float | None:
    """Seconds from `timing.duration` (or a bare number)."""
    if isinstance(value, dict):
        value = value.get("duration")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
