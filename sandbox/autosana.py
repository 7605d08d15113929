"""Autosana's API as its docs describe it (flows/run, runs/status and runs/{id}), and the upload endpoints its own CI
tool uses (not on its API page): start-upload hands out a presigned URL on the sandbox's own storage (sandbox.storage),
confirm-upload turns what arrived there into a build, upload-web-build registers a web build's URL.

A confirmed or registered build becomes its app's active build; flows/run runs the build its `app_build_id` names
(404 for an unknown one), else the app's active build, and runs/status reports that build's app and commit (`app`,
`git`). Its answer links each flow group run (`flow_group_runs`, as Autosana's CLI reads them). The upload endpoints
take `variables` only as `K=V,K2=V2` (the one form the vendor's tools send there) and `name` only when given.

Faults of the key (sandbox/scenarios.py): `startfail`, `confirmfail` and `registerfail` answer that step with 422 and
a `detail`; `detail200` answers confirm-upload and upload-web-build with 200 and only a `detail`; `warnings` adds
vendor warnings to start-upload and confirm-upload; `automations` makes an upload start the scenario's flows itself
(`triggered_flows`, a mapping of id to name, and the `batch_id` they run in), `automations-nobatch` the same without a
batch (a list of {id, name}); `slowtrigger` answers flows/run after TRIGGER_DELAY seconds; `otherbuild` reports another
commit in runs/status than the build's. `put503` and `put403` are storage's.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

from sandbox.scenarios import ERROR, FAIL, PASS, SKIP, TERMINATED, Batch, KeyChoice, ScriptedTest
from sandbox.server import Emulator, Reply, Request
from sandbox.storage import Storage

WORDS = {PASS: "passed", FAIL: "failed", ERROR: "error", TERMINATED: "terminated", SKIP: "skipped"}
WEB = "https://autosana.ai"
EXTENSIONS = {"android": (".apk", ".aab"), "ios": (".ipa", ".zip"), "chrome-extension": (".zip",)}
WEB_BROWSERS = ("chrome", "chromium", "firefox", "edge")
WARNINGS = ["The build's version code is lower than the last build's", "Flows tagged 'flaky' are skipped on this plan"]
TRIGGER_DELAY = 65.0  # seconds: `slowtrigger`, longer than any request but the trigger may take
OTHER_COMMIT = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed"  # `otherbuild`: a commit no upload of the tests stamps
# What runs/status reports for an app no build was uploaded for here (the API page's example).
DEFAULT_APP = {"id": "com.company.app", "name": "My App", "platform": "android", "url": "https://storage.example.com/app.apk"}
DEFAULT_GIT = {"commit_sha": "abc123", "branch": "main"}


class AutosanaEmulator(Emulator):
    prefix = "autosana"

    def __init__(self, storage: Storage) -> None:
        super().__init__()
        self.storage = storage
        self.batches: dict[str, Batch] = {}
        self.runs: dict[str, ScriptedTest] = {}
        self.builds: list[dict[str, Any]] = []  # every confirmed or registered build, for the tests to read
        self.active: dict[tuple[str, str], dict[str, Any]] = {}  # each app's active build, by app and environment
        self.batch_builds: dict[str, dict[str, Any] | None] = {}  # the build each batch runs
        self.group_runs: dict[str, list[str]] = {}  # each batch's flow group run ids, in group order

    def api_key(self, request: Request) -> str | None:
        return request.header("X-API-Key") or None

    def unauthorized(self, request: Request) -> Reply:
        return Reply.error(401, "Invalid or missing API key", key="detail")

    def handle(self, request: Request, choice: KeyChoice) -> Reply:
        if request.method == "POST" and request.path == "/api/v1/flows/run":
            reply = self._run(request.body, choice)
            return replace(reply, delay=TRIGGER_DELAY) if "slowtrigger" in choice.faults else reply
        if request.method == "POST" and request.path == "/api/ci/start-upload":
            return self._start_upload(request, choice.faults)
        if request.method == "POST" and request.path == "/api/ci/confirm-upload":
            return self._confirm_upload(request.body, choice)
        if request.method == "POST" and request.path == "/api/ci/upload-web-build":
            return self._register_web_build(request.body, choice)
        if request.method == "GET" and request.path == "/api/v1/runs/status":
            return self._status(request.query.get("batch_id", [""])[0], choice.faults)
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
        if refused := _refused_fields(body):
            return refused
        if "startfail" in faults:
            return Reply.error(422, f"App {body['bundle_id']} has no {platform} app in this workspace", key="detail")
        file_path = f"builds/{body['bundle_id']}/{uuid.uuid4()}/{filename}"
        # The storage URL is this sandbox, as the client reached it (like real storage, another host in production).
        upload_url = self.storage.presign(f"http://{request.header('host')}", file_path, faults)
        answer: dict[str, Any] = {"upload_url": upload_url, "file_path": file_path}
        if "warnings" in faults:
            answer["warnings"] = WARNINGS[:1]
        return Reply(200, answer)

    def _confirm_upload(self, body: Any, choice: KeyChoice) -> Reply:
        required = ("bundle_id", "platform", "uploaded_file_path", "commit_sha", "branch_name", "repo_full_name")
        if not isinstance(body, dict) or not all(isinstance(body.get(key), str) for key in required):
            return Reply.error(422, f"{', '.join(required)} are required", key="detail")
        if refused := _refused_fields(body):
            return refused
        slot = self.storage.uploaded(body["uploaded_file_path"])
        if slot is None:
            return Reply.error(400, f"Nothing was uploaded to {body['uploaded_file_path']}", key="detail")
        if "confirmfail" in choice.faults:
            return Reply.error(422, f"The uploaded build's bundle id does not match {body['bundle_id']}", key="detail")
        return self._build(body, choice, size=slot.size, warnings=WARNINGS[1:] if "warnings" in choice.faults else [])

    def _register_web_build(self, body: Any, choice: KeyChoice) -> Reply:
        required = ("app_id", "url", "commit_sha", "branch_name", "repo_full_name")
        if not isinstance(body, dict) or not all(isinstance(body.get(key), str) for key in required):
            return Reply.error(422, f"{', '.join(required)} are required", key="detail")
        if refused := _refused_fields(body):
            return refused
        if "registerfail" in choice.faults:
            return Reply.error(422, f"{body['url']} did not answer; deploy the preview first", key="detail")
        return self._build(body, choice, size=None, warnings=[])

    def _build(self, body: dict[str, Any], choice: KeyChoice, *, size: int | None, warnings: list[str]) -> Reply:
        if "detail200" in choice.faults:
            return Reply(200, {"detail": "Duplicate upload: this build was confirmed already"})
        build_id = f"build-{len(self.builds) + 1}"
        build = {**body, "app_build_id": build_id, "size": size}
        self.builds.append(build)
        self.active[_app_key(body)] = build
        answer: dict[str, Any] = {"status": "success", "app_build_id": build_id}
        if warnings:
            answer["warnings"] = warnings
        if choice.faults & {"automations", "automations-nobatch"}:
            batch = self._start(choice, build)
            flows = [(str(uuid.uuid4()), test.name) for test in choice.script.tests]
            if "automations" in choice.faults:
                answer.update(triggered_flows=dict(flows), batch_id=batch.id)
            else:
                answer["triggered_flows"] = [{"id": flow_id, "name": name} for flow_id, name in flows]
        return Reply(200, answer)

    def _start(self, choice: KeyChoice, build: dict[str, Any] | None) -> Batch:
        """Start a batch of the scenario's flows on `build` (None: no build known here)."""
        batch = Batch.start(self.executions.run_all(choice.key, choice.script))
        self.batches[batch.id] = batch
        self.runs_created += 1
        self.runs.update(zip(batch.run_ids, batch.script.tests, strict=True))
        self.batch_builds[batch.id] = build
        self.group_runs[batch.id] = [str(uuid.uuid4()) for _ in dict.fromkeys(test.group for test in batch.script.tests)]
        return batch

    def _run(self, body: Any, choice: KeyChoice) -> Reply:
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
        pinned = body.get("app_build_id")
        if pinned is None:
            build = self.active.get(_app_key(body))
        else:
            build = next((build for build in self.builds if build["app_build_id"] == pinned and _app_key(build) == _app_key(body)), None)
            if build is None:
                return Reply.error(404, f"App build {pinned} not found for this app", key="detail")
        batch = self._start(choice, build)
        group_runs = self.group_runs[batch.id]
        return Reply(
            200,
            {
                "status": "success",
                "batch_id": batch.id,
                "flow_group_run_ids": group_runs,
                "flow_group_runs": [{"id": run_id, "url": f"{WEB}/runs/groups/{run_id}"} for run_id in group_runs],
                "flow_run_count": len(choice.script.tests),
            },
        )

    def _status(self, batch_id: str, faults: frozenset[str]) -> Reply:
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
                "url": f"{WEB}/runs/groups/{run_id}",
                "runs": runs,
            }
            for run_id, (name, runs) in zip(self.group_runs[batch.id], groups.items(), strict=True)
        ]
        flows = [run for runs in groups.values() for run in runs]
        counted = sum(1 for run in flows if run["status"] == "passed")
        return Reply(
            200,
            {
                "batch_id": batch.id,
                "is_complete": complete,
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **_what_runs(self.batch_builds[batch.id], faults),
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


def _app_key(body: dict[str, Any]) -> tuple[str, str]:
    """Which app a request or build is for: Autosana tells apps apart by identifier and environment."""
    app = body.get("app_id") or f"{body.get('bundle_id')}/{body.get('platform')}"
    return str(app), str(body.get("environment") or "")


def _refused_fields(body: dict[str, Any]) -> Reply | None:
    """What the upload endpoints refuse here: a `name` that is not text, `variables` not in the `K=V,K2=V2` form."""
    if not isinstance(body.get("name", ""), str):
        return Reply.error(422, "name must be a string", key="detail")
    variables = body.get("variables", "")
    if not isinstance(variables, str) or not all("=" in pair for pair in variables.split(",") if variables):
        return Reply.error(422, "variables must be KEY=VALUE pairs separated by commas", key="detail")
    return None


def _what_runs(build: dict[str, Any] | None, faults: frozenset[str]) -> dict[str, Any]:
    """runs/status' `app` and `git`: the build a batch runs (`otherbuild`: another commit's)."""
    if build is None:
        app, git = dict(DEFAULT_APP), dict(DEFAULT_GIT)
    else:
        identifier = build.get("app_id") or build["bundle_id"]
        where = build.get("url") or f"https://storage.example.com/{build['uploaded_file_path']}"
        app = {"id": identifier, "name": build.get("name") or identifier, "platform": build.get("platform", "web"), "url": where}
        git = {"commit_sha": build["commit_sha"], "branch": build["branch_name"]}
    if "otherbuild" in faults:
        git = {"commit_sha": OTHER_COMMIT, "branch": "main"}
    return {"app": app, "git": git}


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
