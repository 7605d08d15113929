"""Test-Lab's API as its docs describe it: one endpoint, POST /api/v1/run, and `{"error": ...}` bodies.

Test plans 1..n of the scenario exist (every project and label holds them all).
A scripted `error` outcome is a plan that fails to start, `skip` one that is
skipped (a pipeline pre-step, as the newest docs describe, with its reason in
`error`). A path under `/bare` acts like the bare host test-lab.ai: a 301 to www.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.scenarios import ERROR, SKIP, KeyChoice, Script
from sandbox.server import Emulator, Reply, Request

SELECTORS = ("testPlanId", "testPlanIds", "projectId", "label")
TEST_TYPES = ("quickTest", "deepTest")


class TestLabEmulator(Emulator):
    prefix = "test-lab"

    def api_key(self, request: Request) -> str | None:
        scheme, _, key = request.header("Authorization").partition(" ")
        return key if scheme == "Bearer" else None

    def unauthorized(self, request: Request) -> Reply:
        return Reply.error(401, "Invalid API key", key="error")

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        if request.path.startswith("/bare/"):
            return Reply(301, "", {"Location": "https://www.test-lab.ai" + request.path.removeprefix("/bare")})
        if request.method == "POST" and request.path == "/api/v1/run":
            return self._run(request.body, choice.script)
        return Reply.error(404, "Not found", key="error")

    def _run(self, body: Any, script: Script) -> Reply:
        refused = script.extra.get("refuse")
        if refused == "limit":
            return Reply.error(402, "Insufficient credits. Please top up to continue running tests.", key="error")
        if refused == "rate":
            return Reply(429, {"error": "Rate limit exceeded. Try again later."}, {"Retry-After": "1"})
        invalid = _invalid(body)
        if invalid:
            return Reply.error(400, invalid, key="error")
        plan_ids = _plan_ids(body, len(script.tests))
        if not any(1 <= plan_id <= len(script.tests) for plan_id in plan_ids):
            return Reply.error(404, "No test plans found", key="error")
        jobs = [self._job(plan_id, script, body) for plan_id in plan_ids]
        extra = {"buildId": body["buildId"]} if "buildId" in body else {}
        if "testPlanId" in body:
            return Reply(200, {**jobs[0], **extra})
        failed = sum(1 for job in jobs if job["status"] == "error")
        skipped = sum(1 for job in jobs if job["status"] == "skipped")
        return Reply(200, {"jobs": jobs, "triggered": len(jobs) - failed - skipped, "failed": failed, "skipped": skipped, **extra})

    def _job(self, plan_id: int, script: Script, body: dict[str, Any]) -> dict[str, Any]:
        test_type = body.get("testType", "quickTest")
        if not 1 <= plan_id <= len(script.tests):
            return {"jobId": None, "status": "error", "testPlanId": plan_id, "testType": test_type, "error": "Test plan not found"}
        test = script.tests[plan_id - 1]
        job = {"jobId": None, "status": "running", "testPlanId": plan_id, "testPlanName": test.name, "testType": test_type}
        if test.outcome == ERROR:
            return {**job, "status": "error", "error": "Target URL is unreachable: could not start the browser session"}
        if test.outcome == SKIP:  # a pipeline pre-step, left out of a batch with the reason in `error` (the wording is a guess)
            return {**job, "status": "skipped", "error": f"'{test.name}' is a pipeline pre-step; set triggerPipelinePreSteps to run it on its own"}
        self.runs_created += 1
        return {**job, "jobId": str(uuid.uuid4())}


def _invalid(body: Any) -> str:
    """The 400 message for a body the API rejects, or ''."""
    if not isinstance(body, dict) or sum(1 for name in SELECTORS if name in body) != 1:
        return "One of testPlanId, testPlanIds, or projectId is required"
    if body.get("testType", "quickTest") not in TEST_TYPES:
        return 'testType must be "quickTest" or "deepTest"'
    if len(str(body.get("buildId", ""))) > 100:
        return "buildId must be at most 100 characters"
    cookies = body.get("cookies", [])
    if not isinstance(cookies, list) or not all(
        isinstance(cookie, dict) and all(isinstance(cookie.get(key), str) for key in ("name", "value", "domain")) for cookie in cookies
    ):
        return "cookies must be an array of {name, value, domain}"
    return ""


def _plan_ids(body: dict[str, Any], plans: int) -> list[int]:
    if "testPlanId" in body:
        return [int(body["testPlanId"])]
    if "testPlanIds" in body:
        ids = body["testPlanIds"]
        return [int(item) for item in (ids.split(",") if isinstance(ids, str) else ids)]
    return list(range(1, plans + 1))  # a project or a label: every plan
