"""TestCLIX's API as its docs describe it: execute a test by id, read its status by id.

The n-th test of a scenario has the id `01GDZYY7EMI<n>&07GD8QUVVINJDI` (the
docs' own example is test 1); any other id is "Scenario doesn't exists". Like
the real service, a test's status shows the previous run's result until a run
starts. The execute call answers `queued` and from then on the status is this
run's (`processing`, then the result), as TestCLIX is known to behave. The `stale`
scenario's execute answers `acknowledged` instead, and the first read after it
still shows the old word (at first `pass`); `first-run`'s answers `not executed`.

A status is the test's alarm state: a failed run turns it `error` only once the
test's failures reach its "Failures to alarm" threshold (1 unless the scenario
says otherwise), and keeps the status it had until then (`pass`, `acknowledged`);
a passing run turns it `pass`. `GET /v1/api/status/details` lists the tests in
`error` with their name and message; that item shape is a guess (the docs'
example lists none).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote

from sandbox.scenarios import ERROR, FAIL, PASS, TERMINATED, UNKNOWN, UNRUNNABLE, KeyChoice, Script, ScriptedTest
from sandbox.server import Emulator, Reply, Request

WORDS = {UNKNOWN: "weird-new-state"}  # what a run that neither passes nor fails leaves; a skip leaves `recorded`
FAILING = (FAIL, ERROR, TERMINATED)
NOT_RECORDED = "not recorded"
DENY = "User is not authorized to access this resource with an explicit deny in an identity-based policy"


def scenario_test_id(number: int) -> str:
    """The id of the scenario's `number`-th test (1-based)."""
    return f"01GDZYY7EMI{number}&07GD8QUVVINJDI"


@dataclass
class TestState:
    previous: str = "pass"  # what the status shows before a run starts
    reads: int = 0  # status reads since the last execute
    started: float | None = None  # time of the last execute, None before any
    stale_first: bool = False  # the first read after the execute still shows `previous`
    failures: int = 0  # failed runs counted towards "Failures to alarm"
    finished: bool = False  # the last run's result is in `previous`
    run: ScriptedTest | None = None  # how the last execution ends (a flaky-tests test: failed the first time)


class TestClixEmulator(Emulator):
    prefix = "testclix"

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[tuple[str, str], TestState] = {}

    def api_key(self, request: Request) -> str | None:
        return request.header("x-api-key") or None

    def unauthorized(self, request: Request) -> Reply:
        if not request.header("x-api-key"):
            return Reply.error(401, "Unauthorized")
        return Reply.error(403, DENY)

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        key = request.header("x-api-key")
        if request.method == "GET" and request.path == "/v1/api/status/details":
            return self._details(key, choice.script)
        for method, prefix in (("POST", "/v1/api/execute/"), ("GET", "/v1/api/status/")):
            if request.method == method and request.path.startswith(prefix):
                wanted = unquote(request.path.removeprefix(prefix))
                test = _scripted(choice.script, wanted)
                if test is None:
                    return Reply.error(404, "Scenario doesn't exists")
                state = self._state(key, wanted, choice.script)
                if method == "POST":
                    return self._execute(key, wanted, test, state, choice.script)
                return Reply(200, {"test_id": wanted, "status": self._status(state.run or test, state, choice.script)})
        return Reply.error(404, "Not Found")

    def _state(self, key: str, test_id: str, script: Script) -> TestState:
        return self.states.setdefault((key, test_id), TestState(previous=script.extra.get("previous", "pass")))

    def _execute(self, key: str, test_id: str, test: ScriptedTest, state: TestState, script: Script) -> Reply:
        if script.extra.get("refuse") == "limit":
            return Reply.error(403, "Execution limit exceeded")
        if test.outcome == UNRUNNABLE:
            return Reply(200, {"test_id": test_id, "status": NOT_RECORDED})
        word = script.extra.get("execute_word", "queued")
        state.reads, state.started, state.stale_first, state.finished = 0, time.time(), word != "queued", False
        state.run = self.executions.run(key, test_id, test)
        self.runs_created += 1
        return Reply(200, {"test_id": test_id, "status": word})

    def _status(self, test: ScriptedTest, state: TestState, script: Script) -> str:
        if test.outcome == UNRUNNABLE:
            return NOT_RECORDED
        if state.started is None or state.finished:
            return state.previous
        state.reads += 1
        if state.stale_first and state.reads == 1:
            return state.previous  # the new run has not visibly started yet
        if not script.finished(state.reads - state.stale_first, state.started):
            return "processing"
        state.finished = True
        if test.outcome == PASS:
            state.previous, state.failures = "pass", 0
        elif test.outcome in FAILING:
            state.failures += 1
            if state.failures >= int(script.extra.get("failures_to_alarm", "1")):
                state.previous = "error"  # below the threshold the status stays what it was
        else:  # a scripted skip never runs: the scenario stays at rest
            state.previous = WORDS.get(test.outcome, "recorded")
        return state.previous

    def _details(self, key: str, script: Script) -> Reply:
        """`GET /v1/api/status/details`: the overall status and the tests of this key now in `error`."""
        failing = [
            {"test_id": test_id, "name": (state.run or test).name, "message": (state.run or test).message}
            for number, test in enumerate(script.tests, 1)
            if (state := self.states.get((key, test_id := scenario_test_id(number)))) and state.previous == "error"
        ]
        overall = "error" if failing else "pass"
        return Reply(200, {"status": overall, "tests": {"error": {"count": len(failing), "items": failing}}})


def _scripted(script: Script, wanted: str) -> ScriptedTest | None:
    return next((test for n, test in enumerate(script.tests, 1) if scenario_test_id(n) == wanted), None)
