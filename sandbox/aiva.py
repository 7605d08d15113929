"""AIVA's API as its docs describe it: single test runs, one status read for many runs, and batches read as a CTRF report.

Two shapes here are guesses, because AIVA documents neither: the body of
`GET /v1/test-runs` (a top-level list of runs with testRunId, testName, status and
testResultLink) and error bodies (ASP.NET problem details, `{"title": ..., "status": ...}`).

A single run follows the scenario's tests in the order they are asked for; a test id or name that the key started
before (by id, by name, or in a batch) runs the same test again, as a retry of a failed test does.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox.scenarios import ERROR, FAIL, PASS, SKIP, TERMINATED, UNRUNNABLE, Batch, KeyChoice, Script, ScriptedTest
from sandbox.server import Emulator, Reply, Request

# AIVA's raw words, and the CTRF word a batch report pairs with each.
RAW_WORDS = {PASS: "Passed", FAIL: "Failed", ERROR: "FailedToStart", UNRUNNABLE: "FailedToStart", TERMINATED: "Cancelled", SKIP: "Skipped"}
CTRF_WORDS = {PASS: "passed", FAIL: "failed", ERROR: "failed", UNRUNNABLE: "failed", SKIP: "skipped"}  # anything else is "other"
UNKNOWN_WORD = "weird-new-state"
WEB = "https://app.aiva.works"


@dataclass
class SingleRun:
    id: str
    test: ScriptedTest
    script: Script
    started: float
    name: str  # the test name AIVA would list: the requested one, or the scripted test's
    reads: int = 0


class AivaEmulator(Emulator):
    prefix = "aiva"

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, SingleRun] = {}
        self.batches: dict[str, Batch] = {}
        # Per key: the scenario test the next single run follows. A status read
        # starts the cycle again, so each action run's runs begin at the first test.
        self.next_test: dict[str, int] = {}
        # Per key and test id or name: the scenario test it followed when this key first started it (by id, by name,
        # or in a batch), so that starting it again (a retry) runs the same test. Forgotten by /_sandbox/reset.
        self.followed: dict[tuple[str, str], ScriptedTest] = {}

    def forget(self) -> None:
        super().forget()
        self.followed.clear()

    def api_key(self, request: Request) -> str | None:
        return request.header("X-API-KEY") or None

    def unauthorized(self, request: Request) -> Reply:
        return _problem(401, "Unauthorized")

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        key = request.header("X-API-KEY")
        if request.method == "POST" and request.path == "/v1/test-runs":
            return self._start_run(request.body, choice.script, key)
        if request.method == "GET" and request.path == "/v1/test-runs":
            self.next_test.pop(key, None)
            return self._run_statuses(request.query.get("TestRunIds", []))
        if request.method == "POST" and request.path == "/v1/batches":
            return self._start_batch(request.body, choice.script, key)
        if request.method == "GET" and request.path.startswith("/v1/batches/"):
            if "application/json" not in request.header("Accept"):
                return _problem(406, "Not Acceptable: ask for application/json (CTRF) or application/xml (JUnit)")
            return self._batch_report(request.path.removeprefix("/v1/batches/"))
        return _problem(404, "Not Found")

    def _start_run(self, body: Any, script: Script, key: str) -> Reply:
        if not isinstance(body, dict) or not (body.get("testId") or body.get("testName")):
            return _problem(400, "testId or testName is required")
        if not script.tests:
            return _problem(404, f"Test '{body.get('testId') or body.get('testName')}' not found")
        # As documented, the id wins when both are given.
        identity = str(body.get("testId") or body["testName"])
        if (key, identity) not in self.followed:
            position = self.next_test.get(key, 0)
            self.next_test[key] = position + 1
            self.followed[(key, identity)] = script.requested(position)
        test = self.followed[(key, identity)]
        name = test.name if body.get("testId") else identity
        run = SingleRun(str(uuid.uuid4()), self.executions.run(key, identity, test), script, time.time(), name)
        self.runs[run.id] = run
        self.runs_created += 1
        return Reply(200, {"testRunId": run.id})

    def _run_statuses(self, run_ids: list[str]) -> Reply:
        listed = []
        for run_id in run_ids:
            run = self.runs.get(run_id)
            if run is None:  # unknown ids are left out, not an error
                continue
            run.reads += 1
            entry: dict[str, Any] = {"testRunId": run.id, "testName": run.name, "status": "Queued" if run.reads == 1 else "Running"}
            if run.script.finished(run.reads, run.started):
                entry["status"] = RAW_WORDS.get(run.test.outcome, UNKNOWN_WORD)
                entry["testResultLink"] = f"{WEB}/test-runs/{run.id}"
                if run.test.message:
                    entry["message"] = run.test.message
            listed.append(entry)
        return Reply(200, listed)

    def _start_batch(self, body: Any, script: Script, key: str) -> Reply:
        labels = body.get("labels") if isinstance(body, dict) else None
        if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
            return _problem(400, "labels must be a non-empty array of strings")
        agents = body.get("maxNumberOfAgents")
        if agents is not None and (not isinstance(agents, int) or agents < 1):
            return _problem(400, "maxNumberOfAgents must be a positive integer")
        # Its tests are known by name: a single run by one of these names (a retry) runs that test again.
        self.followed.update(((key, test.name), test) for test in script.tests)
        batch = Batch.start(self.executions.run_all(key, script))
        self.batches[batch.id] = batch
        self.runs_created += 1
        return Reply(200, {"testBatchId": batch.id})

    def _batch_report(self, batch_id: str) -> Reply:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _problem(404, f"Batch {batch_id} not found")
        batch.reads += 1
        complete = batch.script.finished(batch.reads, batch.started)
        tests = [_ctrf_test(run_id, test, complete) for run_id, test in zip(batch.run_ids, batch.script.tests, strict=True)]
        statuses = [test["status"] for test in tests]
        start = int(batch.started * 1000)
        summary = {
            "tests": int(batch.script.extra.get("claim_total", len(tests))),
            **{word: statuses.count(word) for word in ("passed", "failed", "pending", "skipped", "other")},
            "start": start,
            "stop": int(time.time() * 1000) if complete else start,
            # The batch's page, which AIVA's own summary template links; its address here is a guess.
            "extra": {"testBatchLink": f"{WEB}/test-batches/{batch.id}"},
        }
        return Reply(200, {"reportFormat": "CTRF", "specVersion": "0.0.0", "results": {"tool": {"name": "AIVA"}, "summary": summary, "tests": tests}})


def _ctrf_test(run_id: str, test: ScriptedTest, complete: bool) -> dict[str, Any]:
    if complete:
        status, raw = CTRF_WORDS.get(test.outcome, "other"), RAW_WORDS.get(test.outcome, UNKNOWN_WORD)
    else:
        status, raw = "pending", "Running"
    return {
        "name": test.name,
        "status": status,
        "rawStatus": raw,
        "message": test.message if complete else "",
        "duration": 42_500 if complete else 0,
        "extra": {"testResultLink": f"{WEB}/test-runs/{run_id}", "testRunId": run_id},
    }


def _problem(status: int, title: str) -> Reply:
    return Reply(status, {"type": "https://tools.ietf.org/html/rfc9110", "title": title, "status": status})
