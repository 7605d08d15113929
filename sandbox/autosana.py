"""Autosana's API as its docs describe it (flows/run, runs/status and runs/{id}), and the upload endpoints its own CI
tool uses (not on its API page): start-upload hands out a presigned URL on the sandbox's own storage (sandbox.storage),
confirm-upload turns what arrived there into a build, upload-web-build registers a web build's URL.

Faults of the key (sandbox/scenarios.py): `startfail`, `confirmfail` and `registerfail` answer that step with 422 and
a `detail`; `warnings` adds vendor warnings to start-upload and confirm-upload; `put503` and `put403` are storage's.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sandbox.scenarios import ERROR, FAIL, PASS, SKIP, TERMINATED, Batch, KeyChoice, Script, ScriptedTest
from sandbox.server import Emulator, Reply, Request
from sandbox.storage import Storage

WORDS = {PASS: "passed", FAIL: "failed", ERROR: "error", TERMINATED: "terminated", SKIP: "skipped"}
WEB = "https://autosana.ai"
EXTENSIONS = {"android": (".apk", ".aab"), "ios": (".ipa", ".zip"), "chrome-extension": (".zip",)}
WEB_BROWSERS = ("chrome", "chromium", "firefox", "edge")
WARNINGS = ["The build's version code is lower than the last build's", "Flows tagged 'flaky' are skipped on this plan"]


class AutosanaEmulator(Emulator):
    prefix = "autosana"

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.batches: dict[str, Batch] = {}
        self.runs: dict[str, ScriptedTest] = {}
        self.builds: list[dict[str, Any]] = []  # every confirmed or registered build, for the tests to read

    def api_key(self, request: Request) -> str | None:
        return request.header("X-API-Key") or None

    def unauthorized(self, request: Request) -> Reply:
        return Reply.error(401, "Invalid or missing API key", key="detail")

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        if request.method == "POST" and request.path == "/api/v1/flows/run":
            return self._run(request.body, choice.script)
        if request.method == "POST" and request.path == "/api/ci/start-upload":
            return self._start_upload(request, choice.faults)
        if request.method == "POST" and request.path == "/api/ci/confirm-upload":
            return self._confirm_upload(request.body, choice.faults)
        if request.method == "POST" and request.path == "/api/ci/upload-web-build":
            return self._register_web_build(request.body, choice.faults)
        if request.method == "GET" and request.path == "/api/v1/runs/status":
            return self._status(request.query.get("batch_id", [""])[0])
        if request.method == "GET" and request.path.startswith("/api/v1/runs/"):
            return self._detail(request.path.removeprefix("/api/v1/runs/"))
        return Reply.error(404, "Not Found", key="detail")

    def _start_upload(self, request: Request, faults: frozenset[str]) -> Reply:
        body = request.body
        if not isinstance(body, dict) or not all(isinstance(body.get(key), str) and body[key] for key in ("bundle_id", "platform", "filename")):
            return Reply.error(422, "bundle_id, platform and filename are required", key="detail")
        platform, filename = body["platform"], body["filename"]
        if platform not in EXTENSIONS or not filename.lower().endswith(EXTENSIONS[platform]):
            return Reply.error(422, f"A {platform} build cannot be {filename}", key="detail")
        if platform == "chrome-extension" and "environment" in body:
            return Reply.error(422, "A Chrome extension has no environment", key="detail")
        if "startfail" in faults:
            return Reply.error(422, f"App {body['bundle_id']} has no {platform} app in this workspace", key="detail")
        file_path = f"builds/{body['bundle_id']}/{uuid.uuid4()}/{filename}"
        # The storage URL is this sandbox, as the client reached it (like real storage, another host in production).
        upload_url = self.storage.presign(f"http://{request.header('host')}", file_path, faults)
        answer: dict[str, Any] = {"upload_url": upload_url, "file_path": file_path}
        if "warnings" in faults:
            answer["warnings"] = WARNINGS[:1]
        return Reply(200, answer)

    def _confirm_upload(self, body: Any, faults: frozenset[str]) -> Reply:
        required = ("bundle_id", "platform", "uploaded_file_path", "name", "commit_sha", "branch_name", "repo_full_name")
        if not isinstance(body, dict) or not all(isinstance(body.get(key), str) for key in required):
            return Reply.error(422, f"{', '.join(required)} are required", key="detail")
        slot = self.storage.uploaded(body["uploaded_file_path"])
        if slot is None:
            return Reply.error(400, f"Nothing was uploaded to {body['uploaded_file_path']}", key="detail")
        if "confirmfail" in faults:
            return Reply.error(422, f"The uploaded build's bundle id does not match {body['bundle_id']}", key="detail")
        return self._build(body, size=slot.size, warnings=WARNINGS[1:] if "warnings" in faults else [])

    def _register_web_build(self, body: Any, faults: frozenset[str]) -> Reply:
        required = ("app_id", "url", "commit_sha", "branch_name", "repo_full_name")
        if not isinstance(body, dict) or not all(isinstance(body.get(key), str) for key in required):
            return Reply.error(422, f"{', '.join(required)} are required", key="detail")
        if "registerfail" in faults:
            return Reply.error(422, f"{body['url']} did not answer; deploy the preview first", key="detail")
        return self._build(body, size=None, warnings=[])

    def _build(self, body: dict[str, Any], *, size: int | None, warnings: list[str]) -> Reply:
        build_id = f"build-{len(self.builds) + 1}"
        self.builds.append({**body, "app_build_id": build_id, "size": size})
        answer: dict[str, Any] = {"status": "success", "app_build_id": build_id}
        if warnings:
            answer["warnings"] = warnings
        return Reply(200, answer)

    def _run(self, body: Any, script: Script) -> Reply:
        if not isinstance(body, dict):
            return Reply.error(422, "Request body must be a JSON object", key="detail")
        if not (body.get("suite_ids") or body.get("flow_ids") or body.get("labels")):
            return Reply.error(400, "At least one of suite_ids, flow_ids or labels is required", key="detail")
        if not body.get("app_id") and not (body.get("bundle_id") and body.get("platform") in ("ios", "android")):
            return Reply.error(400, "bundle_id with platform, or app_id, is required", key="detail")
        if ("web_browser" in body or "dependencies" in body) and not body.get("app_id"):
            return Reply.error(400, "web_browser and dependencies are for web apps (app_id)", key="detail")
        if body.get("web_browser", "chrome") not in WEB_BROWSERS or not isinstance(body.get("dependencies", []), list):
            return Reply.error(422, "web_browser must be chrome, chromium, firefox or edge; dependencies a list", key="detail")
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
