"""TestCLIX: execute tests by id, then read each test's status until it passes or errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

from suiterun.concurrency import map_concurrently
from suiterun.errors import InputError, VendorError
from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs, parse_list
from suiterun.results import Snapshot, TestResult, TestStatus
from suiterun.text import describe_body

from .base import Reporter, StatusWords, VendorAdapter

# Status words from TestCLIX's docs (lower case in the API). A status is the test's
# alarm state, not one run's result (https://docs.testclix.com/website-scenario/statuses,
# https://github.com/TestCLIX/testclix.github.io, src/content/docs/website-scenario/statuses.mdx):
# `error` only once the test's "Failures to alarm" threshold (1-50) is reached, so a
# failed run of a test with a threshold above 1 can still read `pass`, which no API
# answer reveals (see ALARM_NOTE). `recorded`, `valid` (ready, no scheduler set) and
# `not executed` (an availability check never run) describe a test at rest;
# `acknowledged` is an `error` someone acknowledged, which a passing run turns into
# `pass` ("Test recovered").
STATUS = {
    "queued": TestStatus.PENDING,
    "processing": TestStatus.PENDING,
    "pass": TestStatus.PASSED,
    "error": TestStatus.FAILED,
    "not recorded": TestStatus.ERRORED,
}  # the words at rest are read by _at_rest
RUNNING = {"queued", "processing"}
AT_REST = {"recorded", "valid", "not executed", "acknowledged"}
ACKNOWLEDGED = "acknowledged"
NOT_RECORDED = "not recorded"
NOT_RECORDED_MESSAGE = "TestCLIX says this test is 'not recorded': it has no recorded scenario to run. Record it in TestCLIX, then re-run."
ALARM_NOTE = (
    "TestCLIX reports each test's alarm state, not the run's result: a test turns 'error' only once its 'Failures to alarm' "
    "threshold is reached. This verdict assumes 'Failures to alarm' is 1 for these tests; with a higher threshold a failed run still reads 'pass'."
)
# Where the undocumented items of `GET /v1/api/status/details` may keep a test's id and what went wrong (the
# docs' example lists none); an item that names no test id, or another one, is not shown.
DETAIL_ID_KEYS = ("test_id", "testId", "id")
DETAIL_TEXT_KEYS = ("name", "title", "message", "error", "reason", "details", "description")
MAX_DETAIL_TEXT = 2000  # characters of one test's details
MAX_PARALLEL_READS = 8  # status reads are one request per test


@dataclass
class TrackedTest:
    """One executed test: what its status showed before the execute, and whether this run has visibly started."""

    result: TestResult
    before: str = ""  # the status word read before the execute ("" when not read)
    word: str = ""  # the last status word read
    started: bool = False  # the execute answer or a later status read showed queued/processing
    executed: bool = True  # False when TestCLIX did not queue it


@dataclass(frozen=True)
class TestClixOptions:
    test_ids: tuple[str, ...]
    wait: bool  # the baseline read before executing is only worth a request when the action waits


class TestClixAdapter(VendorAdapter[TestClixOptions]):
    name = "testclix"
    title = "TestCLIX"
    default_api_url = "https://api.testclix.com"
    docs_url = "https://docs.testclix.com/integration/api"
    can_retry = True
    inputs = ("tests",)

    def __init__(self, client: VendorClient, options: TestClixOptions, reporter: Reporter) -> None:
        super().__init__(client, options, reporter)
        self.status_words = StatusWords(self.title, STATUS, reporter)
        self.tracked: list[TrackedTest] = []

    @classmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> TestClixOptions:
        test_ids = tuple(dict.fromkeys(parse_list(inputs.get("tests"))))
        if not test_ids:
            raise InputError("TestCLIX needs input 'tests': the ids of the tests to execute, comma- or newline-separated.")
        return TestClixOptions(test_ids, wait=common.wait)

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key}

    @classmethod
    def describe_error(cls, status: int, vendor_message: str, what: str) -> str | None:
        said = f": {vendor_message}" if vendor_message else ""
        match status:
            case 401:
                return f"TestCLIX received no API key it could use (HTTP 401{said}). Set api-key to the key from TestCLIX Settings > Your API Key."
            case 403 if "limit" in vendor_message.lower():
                # The same status also means a rejected key: only the body tells them apart.
                return f"TestCLIX refused {what} (HTTP 403{said}): your Test Execution package has no executions left. Raise it, then re-run."
            case 403:
                return f"TestCLIX rejected the API key (HTTP 403{said}). Check that api-key holds the key from TestCLIX Settings > Your API Key."
            case 404:
                return f"TestCLIX answered HTTP 404{said} to {what}: there is no such test. Check the ids in input 'tests'."
        return None

    def trigger(self) -> Snapshot:
        self.reporter.note(ALARM_NOTE)
        return self._execute_all(self.options.test_ids)

    def retry(self, tests: Sequence[TestResult]) -> Snapshot:
        """Execute these tests again, by id, as the first time (their status read before, to tell the new result from
        the one they show now); `poll` then reads only them."""
        self.tracked = []
        return self._execute_all(tuple(test.identity for test in tests))

    def _execute_all(self, ids: tuple[str, ...]) -> Snapshot:
        # A test's status can still show the previous run's result, so remember it
        # to tell this run's result from the old one (see _result).
        before = dict(zip(ids, self._read_statuses(ids), strict=True)) if self.options.wait else {}
        for test_id in ids:
            tracked = TrackedTest(TestResult(name=test_id, status=TestStatus.PENDING, id=test_id, identity=test_id), before.get(test_id, ""))
            if tracked.before == NOT_RECORDED:  # it cannot run: do not spend an execution on it
                tracked.result = replace(tracked.result, status=TestStatus.ERRORED, message=NOT_RECORDED_MESSAGE)
            else:
                tracked.result, tracked.started = self._execute(tracked.result)
            tracked.executed = tracked.result.status is TestStatus.PENDING
            self.tracked.append(tracked)
        return self._snapshot()

    def poll(self) -> Snapshot:
        waiting = [tracked for tracked in self.tracked if tracked.result.status is TestStatus.PENDING]
        for tracked, word in zip(waiting, self._read_statuses([t.result.id for t in waiting]), strict=True):
            tracked.started = tracked.started or word in RUNNING
            tracked.word = word
            tracked.result = self._result(tracked, word)
        return self._snapshot()

    def add_details(self, snapshot: Snapshot) -> Snapshot:
        """What `GET /v1/api/status/details` lists for the tests this run left in `error`, as their message."""
        errored = [tracked for tracked in self.tracked if tracked.result.status is TestStatus.FAILED and tracked.word == "error"]
        if not errored:
            return snapshot
        try:
            body = self.client.get("/v1/api/status/details", what="the status details")
        except VendorError as exc:  # details are a bonus: the verdict stands without them
            self.reporter.warning(f"Could not read TestCLIX's status details: {exc}")
            return snapshot
        items = error_items(body)
        for tracked in errored:
            if items.get(tracked.result.id):
                tracked.result = replace(tracked.result, message=f"TestCLIX reports the test failed: {items[tracked.result.id]}")
        return replace(snapshot, tests=tuple(tracked.result for tracked in self.tracked))

    def _execute(self, test: TestResult) -> tuple[TestResult, bool]:
        """Execute one test; returns it and whether this run visibly started. The execute call's own
        `queued` is this run's start (FACTS: trust it), so a quick result equal to the last one is accepted."""
        answer = self.client.post(f"/v1/api/execute/{quote(test.id, safe='')}", what=f"the execution of test '{test.id}'", body=None)
        word = _status_word(answer, f"the execution of test '{test.id}'")
        if word in RUNNING:
            return replace(test, message=f"TestCLIX {word} the test"), True
        if word in AT_REST:
            # Accepted without saying it queued the test: whatever result follows may be an earlier run's (see _result).
            return replace(test, message=f"TestCLIX answered '{word}' to the execute call"), False
        if word == NOT_RECORDED:
            return replace(test, status=TestStatus.ERRORED, message=NOT_RECORDED_MESSAGE), False
        return replace(test, status=TestStatus.ERRORED, message=f"TestCLIX did not queue the test: the execute call answered status '{word}'."), False

    def _result(self, tracked: TrackedTest, word: str) -> TestResult:
        test = tracked.result
        if word in AT_REST:
            return _at_rest(test, word, started=tracked.started)
        status = self.status_words(word)
        if status in (TestStatus.PASSED, TestStatus.FAILED) and not (tracked.started or _new_result(tracked.before, word)):
            # This run never showed as queued or processing, and the result may be
            # an earlier run's. Wait for a visible start (the timeout ends waiting).
            return replace(test, message=f"TestCLIX shows '{word}', which may be from before this run; waiting for this run to start")
        match word:
            case "pass":
                message = ""
            case "error":
                message = "TestCLIX reports the test failed (status 'error'); open it in TestCLIX for the details."
            case "not recorded":
                message = NOT_RECORDED_MESSAGE
            case _ if word in RUNNING:
                message = f"TestCLIX shows the test {word}"
            case _:
                message = f"TestCLIX shows the status '{word}', which this action does not know"
        return replace(test, status=status, message=message)

    def _read_statuses(self, test_ids: list[str] | tuple[str, ...]) -> list[str]:
        """The current status word of each test, read concurrently (one request per test)."""
        # Daemon threads: a cancelled job exits at once instead of waiting for reads under way.
        return map_concurrently(self._read_status, test_ids, workers=MAX_PARALLEL_READS)

    def _read_status(self, test_id: str) -> str:
        what = f"the status of test '{test_id}'"
        return _status_word(self.client.get(f"/v1/api/status/{quote(test_id, safe='')}", what=what), what)

    def _snapshot(self) -> Snapshot:
        tests = tuple(tracked.result for tracked in self.tracked)
        done = not any(test.status is TestStatus.PENDING for test in tests)
        # A test that could not be executed fails the run even when the action does not wait.
        problems = tuple(f"test '{t.result.id}' was not executed: {t.result.message}" for t in self.tracked if not t.executed)
        return Snapshot(tests, done=done, run_ids=self.options.test_ids, problems=problems)


def _new_result(before: str, word: str) -> bool:
    """Whether `word` must come from this run: the test was at rest before the
    execute (not read, queued or processing) and now shows something else."""
    return bool(before) and before not in RUNNING and word != before


def _at_rest(test: TestResult, word: str, *, started: bool) -> TestResult:
    """A test showing a word that is no run's result. Before this run visibly started it is the state the run
    began from; after, the run is over and the word is what the docs give it."""
    if not started:
        return replace(test, status=TestStatus.PENDING, message=f"TestCLIX shows '{word}': this run has not visibly started")
    if word == ACKNOWLEDGED:
        # A passing run turns an acknowledged error into `pass` ("Test recovered"); still acknowledged, it did not pass.
        return replace(
            test,
            status=TestStatus.FAILED,
            message="TestCLIX still shows 'acknowledged' after this run: a passing run would have turned it to 'pass', so this run failed.",
        )
    return replace(
        test,
        status=TestStatus.ERRORED,
        message=f"TestCLIX shows '{word}' after this run: a test at rest, not how the run ended; check the test's History in TestCLIX.",
    )


def error_items(body: object) -> dict[str, str]:
    """Test id -> what `GET /v1/api/status/details` says of it under `tests.error.items`. The items' shape is
    undocumented (the docs' example lists none), so anything unreadable gives nothing, never an error."""
    tests = body.get("tests") if isinstance(body, dict) else None
    error = tests.get("error") if isinstance(tests, dict) else None
    items = error.get("items") if isinstance(error, dict) else None
    found: dict[str, str] = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        lowered = {str(key).lower(): value for key, value in item.items()}
        test_id = next((lowered[key.lower()] for key in DETAIL_ID_KEYS if isinstance(lowered.get(key.lower()), str)), "")
        texts = [str(lowered[key]) for key in DETAIL_TEXT_KEYS if isinstance(lowered.get(key), str | int | float) and str(lowered[key]).strip()]
        if test_id and texts:
            found[test_id] = " - ".join(dict.fromkeys(text.strip() for text in texts))[:MAX_DETAIL_TEXT]
    return found


def _status_word(answer: object, what: str) -> str:
    word = answer.get("status") if isinstance(answer, dict) else None
    if not isinstance(word, str):
        raise VendorError(f"TestCLIX answered {what} with {describe_body(answer)}, not a test status.")
    return word.strip().lower()
