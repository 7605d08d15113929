"""Test-Lab: start test plans and report the jobs started; its API cannot report results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suiterun.errors import InputError, VendorError
from suiterun.http import VendorClient
from suiterun.inputs import Common, Inputs, parse_json, parse_list, parse_positive_int
from suiterun.results import Snapshot, TestResult, TestStatus, plural
from suiterun.text import describe_body

from .base import Reporter, StatusWords, VendorAdapter

# Per-job statuses from Test-Lab's docs: a started job is running, queued or
# pending; newer docs add `error` (failed to start) and `skipped`: a plan that is a
# pipeline pre-step is left out of a batch and reported `skipped`, with the reason in
# `error` (https://www.test-lab.ai/docs/api/run, triggerPipelinePreSteps).
JOB_STATUS = {"running": TestStatus.PENDING, "queued": TestStatus.PENDING, "pending": TestStatus.PENDING}  # `error`, `skipped`: see _job
TEST_TYPES = {"quicktest": "quickTest", "deeptest": "deepTest"}
MAX_BUILD_ID = 100  # characters, from the API reference
COOKIE_FIELDS = ("name", "value", "domain")
SELECTORS = ("tests", "project-id", "labels")


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str = field(repr=False)  # a session secret: masked, never printed
    domain: str = ""


@dataclass(frozen=True)
class TestLabOptions:
    plan_ids: tuple[int, ...] = ()
    project_id: int | None = None
    label: str = ""
    test_type: str = ""  # "" = each plan's own default
    build_id: str = ""
    cookies: tuple[Cookie, ...] = ()


class TestLabAdapter(VendorAdapter[TestLabOptions]):
    name = "test-lab"
    title = "Test-Lab"
    # The bare host test-lab.ai answers with a 301 to www, which would turn the POST into a GET.
    default_api_url = "https://www.test-lab.ai"
    docs_url = "https://www.test-lab.ai/docs/api/run"
    inputs = ("tests", "project-id", "labels", "test-type", "build-id", "cookies")
    # Test-Lab has no documented endpoint to read a job's status or result (results go to webhooks).
    can_poll = False

    def __init__(self, client: VendorClient, options: TestLabOptions, reporter: Reporter) -> None:
        super().__init__(client, options, reporter)
        self.status_words = StatusWords(self.title, JOB_STATUS, reporter)
        for cookie in options.cookies:
            reporter.mask(cookie.value)

    @classmethod
    def parse_options(cls, inputs: Inputs, common: Common) -> TestLabOptions:
        given = inputs.given(SELECTORS)
        if len(given) != 1:
            got = "none is set" if not given else "got " + " and ".join(f"'{name}'" for name in given)
            raise InputError(f"Test-Lab needs exactly one of inputs 'tests' (test plan ids), 'project-id' or 'labels' (one label); {got}.")
        test_type = inputs.get("test-type")
        if test_type and test_type.lower() not in TEST_TYPES:
            raise InputError(f"Input 'test-type' has unsupported value '{test_type}', expected one of: quickTest, deepTest.")
        build_id = inputs.get("build-id") or common.context.git.commit_sha
        if len(build_id) > MAX_BUILD_ID:
            raise InputError(f"Input 'build-id' is {len(build_id)} characters long; Test-Lab accepts at most {MAX_BUILD_ID}.")
        labels = parse_list(inputs.get("labels"))
        if len(labels) > 1:
            raise InputError(f"Input 'labels': Test-Lab runs the plans of one label, got {len(labels)}: {', '.join(labels)}.")
        return TestLabOptions(
            plan_ids=tuple(_plan_id(item) for item in parse_list(inputs.get("tests"))),
            project_id=parse_positive_int("project-id", inputs.get("project-id")) if inputs.get("project-id") else None,
            label=labels[0] if labels else "",
            test_type=TEST_TYPES.get(test_type.lower(), ""),
            build_id=build_id,
            cookies=parse_cookies(inputs.get("cookies")),
        )

    @classmethod
    def auth_headers(cls, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    @classmethod
    def describe_error(cls, status: int, vendor_message: str, what: str) -> str | None:
        said = f": {vendor_message}" if vendor_message else ""
        match status:
            case 401:
                return f"Test-Lab rejected the API key (HTTP 401{said}). Check that the api-key secret holds a Test-Lab key (tl_...)."
            case 402:
                return f"Test-Lab refused {what} for lack of credits (HTTP 402{said}). Top up the Test-Lab account, then re-run."
            case 404:
                return f"Test-Lab found no test plans for {what} (HTTP 404{said}). Check the plan ids, project id or label you passed."
            case 429:
                return (
                    f"Test-Lab kept rate-limiting {what} (HTTP 429{said}); it allows 100 requests a minute and 10 concurrent jobs per key. "
                    "Wait for running jobs to finish, then re-run."
                )
        return None

    def trigger(self) -> Snapshot:
        options = self.options
        body: dict[str, Any]
        # `testPlanIds` even for one plan: newer docs dropped `testPlanId`. `label` is
        # in the newer docs only.
        if options.plan_ids:
            body, what = {"testPlanIds": list(options.plan_ids)}, f"the run request for test plans {', '.join(map(str, options.plan_ids))}"
        elif options.project_id is not None:
            body, what = {"projectId": options.project_id}, f"the run request for project {options.project_id}"
        else:
            body, what = {"label": options.label}, f"the run request for label '{options.label}'"
        if options.test_type:
            body["testType"] = options.test_type
        if options.build_id:
            body["buildId"] = options.build_id
        if options.cookies:
            body["cookies"] = [{"name": c.name, "value": c.value, "domain": c.domain} for c in options.cookies]
        started = self.client.post("/api/v1/run", what=what, body=body)
        if isinstance(started, dict) and isinstance(started.get("jobs"), list):
            return self._jobs_started(started)
        if isinstance(started, dict) and (started.get("jobId") or started.get("error")):
            # The single-plan answer of the older docs: the job itself, at the top level.
            return self._jobs_started({"jobs": [started]})
        raise VendorError(f"Test-Lab answered {what} with {describe_body(started)}, not a list of started jobs.")

    def _jobs_started(self, answer: dict[str, Any]) -> Snapshot:
        jobs = [self._job(job) for job in answer["jobs"] if isinstance(job, dict)]
        problems = [f"Test-Lab could not start {job.name}: {job.message}" for job in jobs if job.status is TestStatus.ERRORED]
        failed = answer.get("failed")
        if isinstance(failed, int) and failed > len(problems):
            problems.append(f"Test-Lab reports {failed} plans failed to start but names {len(problems)}; check its dashboard")
        skipped = [job for job in jobs if job.status is TestStatus.SKIPPED]
        if skipped:
            self.reporter.info(f"Test-Lab skipped {plural(len(skipped), 'plan')}: {'; '.join(f'{job.name} ({job.message})' for job in skipped)}")
        counted = answer.get("skipped")
        if isinstance(counted, int) and counted > len(skipped):
            self.reporter.warning(f"Test-Lab reports {counted} plans skipped but lists {len(skipped)}; check its dashboard for the others.")
        # Every plan skipped is for the judge (see the all-skipped input); anything else that started nothing fails.
        if not any(job.status is TestStatus.PENDING for job in jobs) and not (jobs and len(skipped) == len(jobs)):
            problems.append("Test-Lab started no job: every selected plan was skipped or failed to start")
        return Snapshot(tuple(jobs), run_ids=tuple(job.id for job in jobs if job.id), problems=tuple(problems))

    def _job(self, job: dict[str, Any]) -> TestResult:
        word = str(job.get("status") or "").strip().lower()
        error = str(job.get("error") or "")
        plan = job.get("testPlanName") or (f"test plan {job['testPlanId']}" if job.get("testPlanId") is not None else "a test plan")
        job_id = str(job.get("jobId") or "")
        if word == "skipped":  # a skipped job carries its reason in `error`: skipped, not a failure to start
            status, message = TestStatus.SKIPPED, f"skipped: {error}" if error else "skipped"
        elif error or word == "error":
            status, message = TestStatus.ERRORED, error or f"job {job_id or '(no id)'} ended in 'error' without a reason"
        else:
            status, message = self.status_words(word), f"job {job_id} {word}".strip()
        return TestResult(name=str(plan), status=status, id=job_id, message=message, group=str(job.get("testType") or ""))


def _plan_id(item: str) -> int:
    return parse_positive_int("tests", item, what="a list of Test-Lab test plan ids (whole numbers)")


def parse_cookies(value: str) -> tuple[Cookie, ...]:
    """A JSON array of {name, value, domain} strings. Errors name the entry, never its value."""
    if not value:
        return ()
    cookies = []
    for index, entry in enumerate(parse_json("cookies", value, list)):
        if not isinstance(entry, dict):
            raise InputError(f"Input 'cookies': entry {index} must be an object with name, value and domain, got {type(entry).__name__}.")
        unknown = sorted(set(entry) - set(COOKIE_FIELDS))
        if unknown:
            raise InputError(f"Input 'cookies': entry {index} has unknown field '{unknown[0]}'; Test-Lab takes name, value and domain.")
        for key in COOKIE_FIELDS:
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise InputError(f"Input 'cookies': entry {index} needs '{key}' as a non-empty string.")
        cookies.append(Cookie(entry["name"], entry["value"], entry["domain"]))
    return tuple(cookies)
