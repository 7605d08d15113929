"""Autosana: run flows and suites for a mobile or web app, judged from the listed runs and groups."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from suiterun.errors import InputError, VendorError
from suiterun.http import VendorClient
from suiterun.inputs import Inputs, parse_list, parse_variables
from suiterun.results import Detail, Snapshot, TestResult, TestStatus
from suiterun.text import describe_body
from suiterun.workflow import GitHubContext

from .base import Reporter, StatusWords, VendorAdapter

# Flow statuses from Autosana's docs and its own CI tool. `terminated` is a run
# that was stopped: it never counts as a pass (the vendor's tool once did).
FLOW_STATUS = {
    "passed": TestStatus.PASSED,
    "failed": TestStatus.FAILED,
    "error": TestStatus.ERRORED,
    "terminated": TestStatus.ERRORED,
    "skipped": TestStatus.SKIPPED,
    "running": TestStatus.PENDING,
    "queued": TestStatus.PENDING,
    "pending": TestStatus.PENDING,
}
# A group in one of these states failed even when every flow in it passed
# (for example, its setup or teardown failed).
FAILED_GROUP_STATES = {"failed", "error", "terminated"}
# Detail requests are one per failed flow; past this many the summary links to the rest.
MAX_DETAIL_FETCHES = 20


@dataclass(frozen=True)
class AutosanaOptions:
    suite_ids: tuple[str, ...]
    flow_ids: tuple[str, ...]
    bundle_id: str = ""
    platform: str = ""
    app_id: str = ""
    variables: dict[str, str] | None = None


class AutosanaAdapter(VendorAdapter[AutosanaOptions]):
    name = "autosana"
    title = "Autosana"
    default_api_url = "https://backend.autosana.ai"
    docs_url = "https://docs.autosana.ai"
    inputs = ("tests", "suites", "variables", "bundle-id", "platform", "app-id")

    def __init__(self, client: VendorClient, options: AutosanaOptions, reporter: Reporter) -> None:
        super().__init__(client, options, reporter)
        self.status_words = StatusWords(self.title, FLOW_STATUS, reporter)
        self.batch_id = ""

    @classmethod
    def parse_options(cls, inputs: Inputs, context: GitHubContext) -> AutosanaOptions:
        suite_ids, flow_ids = parse_list(inputs.get("suites")), parse_list(inputs.get("tests"))
        if not (suite_ids or flow_ids):
            raise InputError("Autosana needs input 'suites' (suite ids) or 'tests' (flow ids), or both; neither is set.")
        bundle_id, platform, app_id = inputs.get("bundle-id"), inputs.get("platform").lower(), inputs.get("app-id")
        if app_id and (bundle_id or platform):
            raise InputError("Autosana takes either input 'app-id' (web) or 'bundle-id' with 'platform' (mobile), not both.")
        if not app_id:
            if not bundle_id:
                raise InputError("Autosana needs input 'app-id' (web) or 'bundle-id' with 'platform' (mobile).")
            if platform not in ("ios", "android"):
                shown = f"'{inputs.get('platform')}'" if platform else "nothing"
                raise InputError(f"Input 'platform' must be ios or android with 'bundle-id', got {shown}.")
        variables = parse_variables("variables", inputs.get("variables")) or None
        return AutosanaOptions(suite_ids, flow_ids, bundle_id, platform, app_id, variables)

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {"X-API-Key": api_key}

    def trigger(self) -> Snapshot:
        options = self.options
        body: dict[str, Any] = {"suite_ids": list(options.suite_ids), "flow_ids": list(options.flow_ids)}
        if options.app_id:
            body["app_id"] = options.app_id
        else:
            body.update(bundle_id=options.bundle_id, platform=options.platform)
        if options.variables:
            body["variables"] = options.variables
        started = self.client.post("/api/v1/flows/run", what="the flow run request", body=body)
        batch_id = started.get("batch_id") if isinstance(started, dict) else None
        if not batch_id or started.get("status", "success") != "success":
            raise VendorError(f"Autosana did not start a run: it answered {describe_body(started)}.")
        self.batch_id = str(batch_id)
        return Snapshot(run_ids=(self.batch_id,))

    def poll(self) -> Snapshot:
        body = self.client.get("/api/v1/runs/status", what=f"the status of batch {self.batch_id}", params={"batch_id": self.batch_id})
        if not isinstance(body, dict) or not isinstance(body.get("run_groups", []), list):
            raise VendorError(f"Autosana answered the status of batch {self.batch_id} with {describe_body(body)}, not a run status.")
        tests: list[TestResult] = []
        problems: list[str] = []
        groups = [group for group in body.get("run_groups") or [] if isinstance(group, dict)]
        for group in groups:
            group_name = str(group.get("name") or "")
            runs = [self._test(run, group_name) for run in group.get("runs") or [] if isinstance(run, dict)]
            tests.extend(runs)
            group_state = str(group.get("status") or "").lower()
            if group_state in FAILED_GROUP_STATES and not any(test.is_failure for test in runs):
                problems.append(f"Autosana group '{group_name}' ended in '{group_state}' although none of its flows failed (setup or teardown?)")
        done = body.get("is_complete") is True
        if done:
            problems.extend(_counter_mismatch(body.get("summary"), len(tests)))
        run_url = next((str(group["url"]) for group in groups if group.get("url")), "")
        return Snapshot(tuple(tests), done=done, run_ids=(self.batch_id,), run_url=run_url, problems=tuple(problems))

    def _test(self, run: dict[str, Any], group: str) -> TestResult:
        status = self.status_words(run.get("status"))
        message = str(run.get("summary") or "")
        if str(run.get("status")).lower() == "terminated" and not message:
            message = "The flow was terminated before it finished."
        return TestResult(
            name=str(run.get("name") or run.get("id") or "unnamed flow"),
            status=status,
            id=str(run.get("id") or ""),
            url=str(run.get("url") or ""),
            message=message,
            group=group,
        )

    def add_details(self, snapshot: Snapshot) -> Snapshot:
        """Fetch summary, issues and the failing action of failed flows (not of passed ones)."""
        detailed = []
        fetched = 0
        for test in snapshot.tests:
            if test.is_failure and test.id and fetched < MAX_DETAIL_FETCHES:
                fetched += 1
                detailed.append(self._with_details(test))
            else:
                detailed.append(test)
        if len(snapshot.failures) > MAX_DETAIL_FETCHES:
            self.reporter.warning(f"Autosana: details fetched for the first {MAX_DETAIL_FETCHES} failed flows only; open the run for the rest.")
        return replace(snapshot, tests=tuple(detailed))

    def _with_details(self, test: TestResult) -> TestResult:
        try:
            run = self.client.get(f"/api/v1/runs/{test.id}", what=f"the details of run {test.id}")
        except VendorError as exc:  # details are a bonus: the verdict stands without them
            self.reporter.warning(f"Could not fetch details of Autosana run {test.id}: {exc}")
            return test
        if not isinstance(run, dict):
            return test
        details = [
            Detail(f"Issue ({issue.get('severity') or 'unrated'})", f"{issue.get('title') or ''}: {issue.get('description') or ''}".strip(": "))
            for issue in run.get("issues") or []
            if isinstance(issue, dict)
        ]
        failing = next(
            (
                action
                for action in run.get("actions") or []
                if isinstance(action, dict) and str(action.get("status")).lower() not in ("passed", "skipped")
            ),
            None,
        )
        if failing:
            screenshot = failing.get("annotated_screenshot_url") or failing.get("screenshot_url") or ""
            kind = failing.get("type") or "action"
            step = f"step {failing.get('position', '?')} ({kind}, {failing.get('status')}): {failing.get('description') or ''}"
            details.insert(0, Detail("Failing step", step, str(screenshot)))
        return replace(
            test,
            message=str(run.get("summary") or test.message),
            duration=_seconds_between(run.get("started_at"), run.get("completed_at")),
            url=str(run.get("url") or test.url),
            details=tuple(details),
        )


def _counter_mismatch(summary: Any, listed: int) -> list[str]:
    """The vendor's counters and its listed runs must agree; if they do not, say so and do not pass."""
    if not isinstance(summary, dict) or not isinstance(summary.get("total_flows"), int):
        return []
    counted = summary["total_flows"]
    if counted == listed:
        return []
    return [f"Autosana's summary counts {counted} flows but lists {listed}; the run cannot be judged as passed"]


def _seconds_between(start: Any, end: Any) -> float | None:
    try:
        return (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()
    except ValueError:
        return None
