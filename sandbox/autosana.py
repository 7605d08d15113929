"""Autosana's API as its docs describe it: flows/run, runs/status and runs/{id}."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sandbox.scenarios import ERROR, FAIL, PASS, SKIP, TERMINATED, Batch, KeyChoice, Script, ScriptedTest
from sandbox.server import Emulator, Reply, Request

WORDS = {PASS: "passed", FAIL: "failed", ERROR: "error", TERMINATED: "terminated", SKIP: "skipped"}
WEB = "https://autosana.ai"


class AutosanaEmulator(Emulator):
    prefix = "autosana"

    def __init__(self) -> None:
        self.batches: dict[str, Batch] = {}
        self.runs: dict[str, ScriptedTest] = {}

    def api_key(self, request: Request) -> str | None:
        return request.header("X-API-Key") or None

    def unauthorized(self, request: Request) -> Reply:
        return Reply.error(401, "Invalid or missing API key", key="detail")

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        if request.method == "POST" and request.path == "/api/v1/flows/run":
            return self._run(request.body, choice.script)
        if request.method == "GET" and request.path == "/api/v1/runs/status":
            return self._status(request.query.get("batch_id", [""])[0])
        if request.method == "GET" and request.path.startswith("/api/v1/runs/"):
            return self._detail(request.path.removeprefix("/api/v1/runs/"))
        return Reply.error(404, "Not Found", key="detail")

    def _run(self, body: Any, script: Script) -> Reply:
        if not isinstance(body, dict):
            return Reply.error(422, "Request body must be a JSON object", key="detail")
        if not (body.get("suite_ids") or body.get("flow_ids")):
            return Reply.error(400, "At least one of suite_ids or flow_ids is required", key="detail")
        if not body.get("app_id") and not (body.get("bundle_id") and body.get("platform") in ("ios", "android")):
            return Reply.error(400, "bundle_id with platform, or app_id, is required", key="detail")
        batch = Batch.start(script)
        self.batches[batch.id] = batch
        self.runs_created += 1
        self.runs.update(zip(batch.run_ids, script.tests, strict=True))
        groups = {test.group for test in script.tests}
        return Reply(
            200,
            {
                "status": "success",
                "batch_id": batch.id,
                "flow_group_run_ids": [str(uuid.uuid4()) for _ in groups],
                "flow_run_count": len(script.tests),
            },
        )

    def _status(self, batch_id: str) -> Reply:
        batch = self.batches.get(batch_id)
        if batch is None:
            return Reply.error(404, f"Batch {batch_id} not found", key="detail")
        batch.reads += 1
        complete = batch.script.finished(batch.reads, batch.started)
        groups: dict[str, list[dict[str, Any]]] = {}
        for run_id, test in zip(batch.run_ids, batch.script.tests, strict=True):
            status = WORDS.get(test.outcome, "weird-new-state") if complete else "running"
            run = {"id": run_id, "name": test.name, "status": status, "url": f"{WEB}/runs/flow/{run_id}"}
            if complete and test.message:
                run["summary"] = test.message
            groups.setdefault(test.group, []).append(run)
        failed_group = batch.script.extra.get("group_error")
        run_groups = [
            {
                "name": name,
                "status": _group_status(runs, complete, error=name == failed_group),
                "url": f"{WEB}/runs/groups/{batch.id}-{index}",
                "runs": runs,
            }
            for index, (name, runs) in enumerate(groups.items())
        ]
        flows = [run for runs in groups.values() for run in runs]
        counted = sum(1 for run in flows if run["status"] == "passed")
        return Reply(
            200,
            {
                "batch_id": batch.id,
                "is_complete": complete,
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "app": {"id": "com.company.app", "name": "My App", "platform": "android", "url": "https://storage.example.com/app.apk"},
                "git": {"commit_sha": "abc123", "branch": "main"},
                "summary": {
                    "total_groups": len(run_groups),
                    "passed_groups": sum(1 for group in run_groups if group["status"] == "passed"),
                    "failed_groups": sum(1 for group in run_groups if group["status"] != "passed"),
                    "total_flows": int(batch.script.extra.get("claim_total", len(flows))),
                    # Like the vendor's own counters, terminated flows are (wrongly) not failures here.
                    "passed_flows": counted,
                    "failed_flows": sum(1 for run in flows if run["status"] == "failed"),
                    "error_flows": sum(1 for run in flows if run["status"] == "error"),
                    "terminated_flows": sum(1 for run in flows if run["status"] == "terminated"),
                    "skipped_flows": sum(1 for run in flows if run["status"] == "skipped"),
                },
                "run_groups": run_groups,
            },
        )

    def _detail(self, run_id: str) -> Reply:
        test = self.runs.get(run_id)
        if test is None:
            return Reply.error(404, f"Run {run_id} not found", key="detail")
        failed = test.outcome in (FAIL, ERROR)
        actions = [
            _action(run_id, 1, "tap", "passed", "Tap the 'Sign In' button"),
            _action(run_id, 2, "assert", "failed" if failed else "passed", "Check the confirmation message is visible"),
        ]
        issues = (
            [{"type": "functional", "severity": "major", "title": "Confirmation missing", "description": test.message, "actions": [2]}]
            if failed
            else []
        )
        return Reply(
            200,
            {
                "run_id": run_id,
                "flow_name": test.name,
                "status": WORDS.get(test.outcome, "running"),
                "started_at": "2025-01-31T12:34:50.000000+00:00",
                "completed_at": "2025-01-31T12:35:01.500000+00:00",
                "summary": test.message,
                "issues": issues,
                "url": f"{WEB}/runs/flow/{run_id}",
                "actions": actions,
            },
        )


def _group_status(runs: list[dict[str, Any]], complete: bool, *, error: bool) -> str:
    if not complete:
        return "running"
    if error:
        return "error"
    # Mirrors the vendor bug seen in its CI tool: terminated flows leave the group "passed".
    return "failed" if any(run["status"] in ("failed", "error") for run in runs) else "passed"


def _action(run_id: str, position: int, kind: str, status: str, description: str) -> dict[str, Any]:
    return {
        "id": f"{run_id}-action-{position}",
        "position": position,
        "type": kind,
        "status": status,
        "description": description,
        "value": None,
        "screenshot_url": f"https://storage.example.com/{run_id}/{position}.png",
        "annotated_screenshot_url": f"https://storage.example.com/{run_id}/{position}-annotated.png" if status == "failed" else None,
        "executed_at": "2025-01-31T12:34:56.789000+00:00",
    }
