"""Kapptivate's API as its docs describe it: short-lived JWTs from a refresh token, continuous_integration and its results.

A run answers for the tests it was asked to run: the n-th requested test id follows the scenario's n-th test.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sandbox.scenarios import ERROR, FAIL, PASS, SKIP, TERMINATED, KeyChoice, Script, ScriptedTest
from sandbox.server import Emulator, Reply, Request

REFRESH_PATH = "/api/auth/refresh-token/"
TRIGGER_PATH = "/api/v1/continuous_integration/"
RESULTS_PATH = "/api/v1/continuous_integration/results/"
# Execution words from Kapptivate's own CLI.
WORDS = {PASS: "success", FAIL: "failure", ERROR: "timed out", TERMINATED: "canceled", SKIP: "maintenance"}
STORAGE = "https://storage.example.com/kapptivate"
JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


@dataclass
class Result:
    id: int
    name: str
    script: Script
    started: float
    tests: tuple[tuple[int, ScriptedTest], ...]  # the requested test ids, each with how its scenario test ends this time
    reads: int = 0


class KapptivateEmulator(Emulator):
    prefix = "kapptivate"
    # Wall-clock seconds a token lives, like the vendor's default; tests shorten it to see expired tokens rejected.
    token_lifetime = 120.0
    # The documented result holds only counters; the per-test list (with the large
    # per-step fields) is a guess, switched off by tests of counters-only results.
    list_tests = True

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (refresh token, expiry as wall time)
        self.results: dict[int, Result] = {}

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, as a server-side logout or key rotation would."""
        self.tokens.clear()

    def api_key(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == REFRESH_PATH:
            key = request.body.get("refresh_token") if isinstance(request.body, dict) else None
            return key if isinstance(key, str) else None
        scheme, _, token = request.header("Authorization").partition(" ")
        key, expires = self.tokens.get(token, ("", 0.0))
        return key if scheme == "JWT" and time.time() < expires else None

    def unauthorized(self, request: Request) -> Reply:
        if request.path == REFRESH_PATH:
            return Reply.error(401, "Invalid refresh token.", key="detail")
        if not request.header("Authorization").startswith("JWT "):
            return Reply.error(401, "Authentication credentials were not provided.", key="detail")
        return Reply.error(401, "Signature has expired.", key="detail")

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        if request.method == "POST" and "application/json" not in request.header("Content-Type"):
            return Reply.error(415, "Unsupported media type in request; send Content-Type: application/json.", key="detail")
        if request.method == "POST" and request.path == REFRESH_PATH:
            return self._issue(request.body["refresh_token"])
        if request.method == "POST" and request.path == TRIGGER_PATH:
            return self._start(request.body, choice)
        if request.method == "GET" and request.path.startswith(RESULTS_PATH):
            return self._result(request.path.removeprefix(RESULTS_PATH).rstrip("/"))
        return Reply.error(404, "Not found.", key="detail")

    def _issue(self, refresh_token: str) -> Reply:
        token = f"{JWT_HEADER}.{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}"
        self.tokens[token] = (refresh_token, time.time() + self.token_lifetime)
        return Reply(200, {"token": token})

    def _start(self, body: Any, choice: KeyChoice) -> Reply:
        problem = _invalid_run_request(body)
        if problem:
            return Reply.error(400, problem, key="detail")
        script = choice.script
        # The n-th requested test follows the scenario's n-th test (a scenario without tests has none).
        requested = [test["id"] for test in body["tests"]] if script.tests else []
        tests = tuple((test_id, self.executions.run(choice.key, str(test_id), script.requested(n))) for n, test_id in enumerate(requested))
        result = Result(len(self.results) + 1, body["name"], script, time.time(), tests)
        self.results[result.id] = result
        self.runs_created += 1
        # The sandbox serves under /kapptivate, so result_uri carries that prefix like a path from the host root.
        uri = f"/{self.prefix}{RESULTS_PATH}{result.id}/"
        return Reply(200, {"status": "success", "result_uri": uri, "result_id": result.id})

    def _result(self, result_id: str) -> Reply:
        result = self.results.get(int(result_id)) if result_id.isdigit() else None
        if result is None:
            return Reply.error(404, "Not found.", key="detail")
        result.reads += 1
        script, tests = result.script, result.tests
        start = _iso(result.started)
        if not script.finished(result.reads, result.started):
            ongoing = {"status": "ongoing", "timing": {"start": start, "end": None, "duration": None}, "nb_tests": len(tests), "nb_success": 0}
            return Reply(200, {"name": result.name, "result": ongoing})
        words = [WORDS.get(test.outcome, "weird-new-state") for _, test in tests]
        duration = 12.5 * len(words)
        final: dict[str, Any] = {
            "status": _run_word(words, setup_failed=bool(script.extra.get("group_error"))),
            "timing": {"start": start, "end": _iso(result.started + duration), "duration": duration},
            "nb_tests": int(script.extra.get("claim_total", len(words))),
            "nb_success": words.count("success"),
        }
        if self.list_tests:
            final["tests"] = [
                _entry(result, index, test_id, test, word) for index, ((test_id, test), word) in enumerate(zip(tests, words, strict=True))
            ]
        return Reply(200, {"name": result.name, "result": final})


def _invalid_run_request(body: Any) -> str:
    """What the documented request body gets wrong, or ''."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        return "name: this field is required."
    if "variable_group_id" in body and type(body["variable_group_id"]) is not int:
        return "variable_group_id: a valid integer is required."
    tests = body.get("tests")
    if not isinstance(tests, list) or not tests:
        return "tests: this list may not be empty."
    for test in tests:
        if not isinstance(test, dict) or type(test.get("id")) is not int:
            return "tests: each test needs an integer id."
        if not isinstance(test.get("direct_owners"), dict) or not test["direct_owners"]:
            return f"tests: test {test['id']} needs direct_owners."
        if not isinstance(test.get("input_variables", {}), dict):
            return f"tests: input_variables of test {test['id']} must be an object."
    return ""


def _run_word(words: list[str], *, setup_failed: bool) -> str:
    if setup_failed:  # the sandbox's `group-error`: the run failed although every test passed
        return "failure"
    if all(word == "success" for word in words):
        return "success"
    if all(word == "canceled" for word in words):
        return "canceled"
    return "maintenance" if "maintenance" in words else "failure"


def _entry(result: Result, index: int, test_id: int, test: ScriptedTest, word: str) -> dict[str, Any]:
    """One listed test, with the large per-step fields the vendor's own script strips."""
    steps = [("Open the app", "success"), ("Check the expected screen", word)]
    return {
        "id": test_id,
        "name": test.name,
        "status": word,
        "message": test.message,
        "timing": {"start": _iso(result.started), "end": _iso(result.started + 12.5), "duration": 12.5},
        "steps": [
            {
                "name": name,
                "status": status,
                "message": test.message if status != "success" else "",
                "screenshot_url_before": f"{STORAGE}/{result.id}/{index}/{number}-before.png",
                "screenshot_url_after": f"{STORAGE}/{result.id}/{index}/{number}-after.png",
                "time_since_parent_start": 0.4 * number,
            }
            for number, (name, status) in enumerate(steps, start=1)
        ],
    }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
