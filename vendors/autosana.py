"""Autosana: optionally upload the build under test (or register a web preview URL, see autosana_build), then run flows,
suites and labels for a mobile or web app, judged from the listed runs and groups.

Sources: the API page (https://docs.autosana.ai) for flows/run, runs/status and runs/{id}; the vendor's CI action
(https://github.com/Autosana/autosana-ci/blob/main/entrypoint.sh) and CLI (https://pypi.org/project/autosana/) for
what the page leaves out. docs/vendors/autosana.md traces every field sent and read to one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from suiterun.errors import InputError, VendorError
from suiterun.gitmeta import GitMetadata
from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs, parse_json, parse_list, parse_variables
from suiterun.results import BuildUnderTest, Detail, Snapshot, TestResult, TestStatus
from suiterun.text import describe_body

from .autosana_build import BuildOptions, BuildSteps, StartedFlows, parse_build, url_secrets
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
# `web_browser` values of flows/run (from the vendor's CI tool); `msedge` is its other name for edge.
WEB_BROWSERS = {"chrome": "chrome", "chromium": "chromium", "firefox": "firefox", "edge": "edge", "msedge": "edge"}
PLATFORMS = ("ios", "android", "chrome-extension")
# flows/run may work a while before it answers: the vendor's action gives it 300 s (curl --max-time 300). One request,
# inside `timeout`, never repeated once sent (it starts runs).
TRIGGER_SECONDS = 300.0


@dataclass(frozen=True)
class AutosanaOptions:
    suite_ids: tuple[str, ...]
    flow_ids: tuple[str, ...]
    bundle_id: str = ""
    platform: str = ""
    app_id: str = ""
    variables: dict[str, str] | None = None
    labels: tuple[str, ...] = ()
    environment: str = ""
    web_browser: str = ""
    dependencies: list[Any] | None = None  # None: not given; []: none
    build: BuildOptions | None = None
    git: GitMetadata = field(default_factory=GitMetadata)

    @property
    def runs_anything(self) -> bool:
        return bool(self.suite_ids or self.flow_ids or self.labels)


class AutosanaAdapter(VendorAdapter[AutosanaOptions]):
    name = "autosana"
    title = "Autosana"
    default_api_url = "https://backend.autosana.ai"
    docs_url = "https://docs.autosana.ai"
    inputs = (
        "tests",
        "suites",
        "labels",
        "variables",
        "bundle-id",
        "platform",
        "app-id",
        "build-path",
        "app-url",
        "app-name",
        "environment",
        "web-browser",
        "dependencies",
        "ios-keychain-remapping",
    )

    def __init__(self, client: VendorClient, options: AutosanaOptions, reporter: Reporter) -> None:
        super().__init__(client, options, reporter)
        self.status_words = StatusWords(self.title, FLOW_STATUS, reporter)
        self.batch_id = ""
        self.run_url = ""
        self.build: BuildUnderTest | None = None
        self.told_what_ran = False
        for secret in url_secrets(options.build.url if options.build else ""):
            reporter.mask(secret)  # a preview's password in app-url

    @classmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> AutosanaOptions:
        suite_ids, flow_ids, labels = parse_list(inputs.get("suites")), parse_list(inputs.get("tests")), parse_list(inputs.get("labels"))
        bundle_id, platform, app_id = inputs.get("bundle-id"), inputs.get("platform").lower(), inputs.get("app-id")
        if app_id and (bundle_id or platform):
            raise InputError("Autosana takes either input 'app-id' (web) or 'bundle-id' with 'platform' (mobile), not both.")
        if not app_id:
            if not bundle_id:
                raise InputError("Autosana needs input 'app-id' (web) or 'bundle-id' with 'platform' (mobile).")
            if platform not in PLATFORMS:
                shown = f"'{inputs.get('platform')}'" if platform else "nothing"
                raise InputError(f"Input 'platform' must be ios, android or chrome-extension with 'bundle-id', got {shown}.")
        variables = parse_variables("variables", inputs.get("variables")) or None
        build = parse_build(inputs, common, platform=platform, app_id=app_id, variables=variables)
        runs_anything = bool(suite_ids or flow_ids or labels)
        if platform == "chrome-extension" and (build is None or runs_anything):
            raise InputError(
                "Platform chrome-extension only uploads an extension (input 'build-path'); Autosana runs no flows for it: "
                "remove 'tests', 'suites' and 'labels', and run the flows of the web app that uses it."
            )
        if not (runs_anything or build):
            raise InputError(
                "Autosana needs input 'suites' (suite ids), 'tests' (flow ids) or 'labels', or a build to upload ('build-path' or 'app-url')."
            )
        return AutosanaOptions(
            suite_ids,
            flow_ids,
            bundle_id,
            platform,
            app_id,
            variables=variables,
            labels=labels,
            environment=inputs.get("environment"),
            web_browser=_web_browser(inputs.get("web-browser"), app_id),
            dependencies=_dependencies(inputs.get("dependencies"), app_id),
            build=build,
            git=common.context.git,
        )

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {"X-API-Key": api_key}

    def trigger(self) -> Snapshot:
        options = self.options
        if options.build:
            started = self._put_build_under_test(options.build)
            if not options.runs_anything:
                return self._judge_what_the_upload_started(started)
            if started.count:
                self.reporter.warning(
                    f"Autosana: the upload already started {started.describe()}, and this step runs the suites, flows or labels "
                    "asked for as well: flows may run twice, and cost twice. Ask for nothing to judge what the upload starts, "
                    "or turn the app's CI/CD automations off in Autosana."
                )
        body = self._run_body()
        started = self.client.post("/api/v1/flows/run", what="the flow run request", body=body, seconds=TRIGGER_SECONDS)
        batch_id = started.get("batch_id") if isinstance(started, dict) else None
        if not batch_id or started.get("status", "success") != "success":
            raise VendorError(f"Autosana did not start a run: it answered {describe_body(started)}.")
        self.batch_id = str(batch_id)
        links = _group_run_links(started)
        for link in links:
            self.reporter.info(f"Autosana: flow group run {link}")
        self.run_url = links[0] if links else ""
        return Snapshot(run_ids=(self.batch_id,), run_url=self.run_url, build=self.build)

    def _run_body(self) -> dict[str, Any]:
        """What flows/run is asked: the flows, suites and labels, the app, and the build just uploaded."""
        options = self.options
        body: dict[str, Any] = {"suite_ids": list(options.suite_ids), "flow_ids": list(options.flow_ids)}
        if options.labels:
            body["labels"] = list(options.labels)
        if options.app_id:
            body["app_id"] = options.app_id
        else:
            body.update(bundle_id=options.bundle_id, platform=options.platform)
        if self.build and self.build.build_id:
            # The build just uploaded, not whatever is the app's active build when the flows start (another job may
            # upload in between): Autosana's CLI pins its runs so (autosana_cli/flows_run.py).
            body["app_build_id"] = self.build.build_id
        elif self.build:
            self.reporter.warning(
                "Autosana gave no build id for the upload, so the flows run on the app's active build: another upload in between would change it."
            )
        if options.variables:
            body["variables"] = options.variables
        if options.environment:
            body["environment"] = options.environment
        if options.web_browser:
            body["web_browser"] = options.web_browser
        if options.dependencies is not None:
            body["dependencies"] = options.dependencies
        return body

    def _put_build_under_test(self, build: BuildOptions) -> StartedFlows:
        """Upload or register the build, and return what its answer says the upload started (warned about when unreadable)."""
        options = self.options
        steps = BuildSteps(self.client, self.reporter, options.git)
        if build.path:
            self.build, started = steps.upload(build, bundle_id=options.bundle_id, platform=options.platform)
        else:
            self.build, started = steps.register(build, app_id=options.app_id, dependencies=options.dependencies)
        self.reporter.info(f"Autosana: build under test {self.build.name}{f', build id {self.build.build_id}' if self.build.build_id else ''}")
        if started.unread:
            self.reporter.warning(
                f"Autosana answered the upload with `triggered_flows` as {started.unread}, which this action cannot read: "
                "the upload may have started flows; see the app's runs in Autosana."
            )
        return started

    def _judge_what_the_upload_started(self, started: StartedFlows) -> Snapshot:
        """Nothing else asked: the step is the upload, and the flows it started when their batch is known."""
        if len(started.batch_ids) == 1:
            self.batch_id = started.batch_ids[0]
            self.reporter.info(f"Autosana: the upload started {started.describe()}; reading their results from batch {self.batch_id}")
            return Snapshot(run_ids=(self.batch_id,), build=self.build)
        if started.count:
            batches = f"names {len(started.batch_ids)} batches" if started.batch_ids else "names no batch"
            self.reporter.warning(
                f"Autosana: the upload started {started.describe()}; its answer {batches} to read their results from, "
                "so this step does not judge them: see them in Autosana."
            )
        return Snapshot(done=True, build=self.build)

    def poll(self) -> Snapshot:
        body = self.client.get("/api/v1/runs/status", what=f"the status of batch {self.batch_id}", params={"batch_id": self.batch_id})
        if not isinstance(body, dict) or not isinstance(body.get("run_groups", []), list):
            raise VendorError(f"Autosana answered the status of batch {self.batch_id} with {describe_body(body)}, not a run status.")
        if not self.told_what_ran:
            self._tell_what_ran(body.get("app"), body.get("git"))
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
        run_url = next((str(group["url"]) for group in groups if group.get("url")), self.run_url)
        return Snapshot(tuple(tests), done=done, run_ids=(self.batch_id,), run_url=run_url, problems=tuple(problems), build=self.build)

    def _tell_what_ran(self, app: Any, git: Any) -> None:
        """Which build and commit Autosana runs (`app` and `git` of runs/status, on its API page), once; a warning when the
        commit is not the one of the build this step uploaded (another upload replaced it, or the pin was not honoured)."""
        app = app if isinstance(app, dict) else {}
        git = git if isinstance(git, dict) else {}
        commit, branch = str(git.get("commit_sha") or ""), str(git.get("branch") or "")
        name = str(app.get("name") or app.get("id") or "")
        if not (name or commit):
            return
        self.told_what_ran = True
        platform = f" ({app['platform']})" if app.get("platform") else ""
        at = f" at commit {commit}" if commit else ""
        on = f" on {branch}" if branch else ""
        self.reporter.info(f"Autosana runs {name or 'the app'}{platform}{at}{on}")
        uploaded = self.build.commit_sha if self.build else ""
        if uploaded and commit and not _same_commit(commit, uploaded):
            self.reporter.warning(
                f"Autosana ran the build of commit {commit}{on}, not the build this step uploaded (commit {uploaded[:12]}): "
                "another upload may have replaced it; these results may not be this change's."
            )

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
            screenshot = str(failing.get("annotated_screenshot_url") or failing.get("screenshot_url") or "")
            kind = failing.get("type") or "action"
            step = f"step {failing.get('position', '?')} ({kind}, {failing.get('status')}): {failing.get('description') or ''}"
            details.insert(0, Detail("Failing step", step, screenshot, image=screenshot))
        return replace(
            test,
            message=str(run.get("summary") or test.message),
            duration=_seconds_between(run.get("started_at"), run.get("completed_at")),
            url=str(run.get("url") or test.url),
            details=tuple(details),
        )


def _group_run_links(answer: dict[str, Any]) -> list[str]:
    """The link of each flow group run started (`flow_group_runs[].url` of the flows/run answer, as Autosana's CLI
    prints them, autosana_cli/flows_cmd.py; not on the API page, so an answer without them gives none)."""
    runs = answer.get("flow_group_runs")
    found = [run.get("url") for run in runs if isinstance(run, dict)] if isinstance(runs, list) else []
    return [url for url in found if isinstance(url, str) and url]


def _same_commit(reported: str, uploaded: str) -> bool:
    """Whether two commit SHAs name the same commit, either one possibly short (the API page shows `abc123`)."""
    first, second = reported.lower(), uploaded.lower()
    return first.startswith(second) or second.startswith(first)


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


def _web_browser(value: str, app_id: str) -> str:
    if not value:
        return ""
    if not app_id:
        raise InputError("Input 'web-browser' applies to a web app ('app-id'), not to a mobile app.")
    browser = WEB_BROWSERS.get(value.lower())
    if browser is None:
        raise InputError(f"Input 'web-browser' has unsupported value '{value}', expected one of: chrome, chromium, firefox, edge (or msedge).")
    return browser


def _dependencies(value: str, app_id: str) -> list[Any] | None:
    """A JSON array of app UUIDs or {app_id, app_build_id} pins (`[]`: none), for a web app."""
    if not value:
        return None
    if not app_id:
        raise InputError("Input 'dependencies' applies to a web app ('app-id'), not to a mobile app.")
    parsed: list[Any] = parse_json("dependencies", value, list)
    for index, item in enumerate(parsed):
        pinned = isinstance(item, dict) and set(item) == {"app_id", "app_build_id"} and all(isinstance(v, str) and v for v in item.values())
        if not (isinstance(item, str) and item) and not pinned:
            raise InputError(f"Input 'dependencies': entry {index} must be an app id (a string) or an object with exactly app_id and app_build_id.")
    return parsed
