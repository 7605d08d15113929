"""The sticky pull request comment: created once per vendor, workflow, job, matrix entry and step, then updated in place."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import requests

from suiterun.clock import Clock, Deadline
from suiterun.concurrency import Overdue, call_within
from suiterun.errors import InputError
from suiterun.inputs import Inputs, parse_choice, parse_json
from suiterun.render import COMMENT_LIMIT, SizeLimit, TemplateError, TemplateSource, fit, renderer, template_context
from suiterun.results import GREEN, Outcome
from suiterun.text import describe_body, markdown_inline
from suiterun.workflow import GitHubContext, Workflow

COMMENT_TEMPLATE = "comment.md.j2"
MARKER_PREFIX = "<!-- suiterun:comment "
COMMENT_SECONDS = 30.0  # all of the comment's requests: GitHub being slow never holds up the step for long
REQUEST_SECONDS = 10.0  # one request, start to end
# The author of comments written with the workflow's GITHUB_TOKEN.
WORKFLOW_TOKEN_LOGIN = "github-actions[bot]"


class CommentMode(StrEnum):
    OFF = "off"
    ALWAYS = "always"
    FAILURES = "failures"


@dataclass(frozen=True)
class CommentSettings:
    """What the comment step needs, validated with the other inputs."""

    mode: CommentMode
    token: str = field(repr=False)
    matrix: Mapping[str, Any]
    marker: str  # the hidden first line that finds this step's own comment again

    @classmethod
    def from_environ(cls, inputs: Inputs, environ: Mapping[str, str], *, vendor: str) -> CommentSettings:
        mode = parse_choice("comment", inputs.get("comment") or "off", CommentMode)
        token = inputs.get("github-token")
        if mode is not CommentMode.OFF and environ.get("GITHUB_ACTIONS") != "true":
            raise InputError(
                f"Input 'comment' is '{mode}', but this is not a GitHub Actions job, so there is no pull request to comment on; "
                "leave it off here (the summary file is the report)."
            )
        if mode is not CommentMode.OFF and not token:
            raise InputError(
                f"Input 'github-token' is empty but input 'comment' is '{mode}': pass a token that may write pull request comments, "
                "e.g. github-token: ${{ github.token }}."
            )
        matrix = clean_matrix(inputs.get("matrix"))
        identity = {
            "vendor": vendor,
            "workflow": environ.get("GITHUB_WORKFLOW", ""),
            "job": environ.get("GITHUB_JOB", ""),
            "matrix": matrix,
            # The step id (or the runner's name for a step without one, e.g. __suiterun_ai-test-suites_2):
            # two uses of the action in one job get two comments.
            "step": environ.get("GITHUB_ACTION", ""),
        }
        return cls(mode=mode, token=token, matrix=matrix, marker=comment_marker(identity))


def clean_matrix(value: str) -> dict[str, Any]:
    """`toJSON(matrix)` gives `null` outside a matrix job; users may also pass a JSON object of their own."""
    # GitHub's docs list no contexts for action.yml input defaults; github/codeql-action's upload-sarif relies on
    # this same default, and act evaluates it. Were it ever passed unevaluated, the JSON check fails the step loudly.
    if value in ("", "null"):
        return {}
    parsed: dict[str, Any] = parse_json("matrix", value, dict)
    return parsed


def comment_marker(identity: Mapping[str, Any]) -> str:
    # Sorted, compact JSON, so a pretty-printed toJSON(matrix) and a hand-written one match;
    # `>` is escaped (still valid JSON) so no value can close the HTML comment.
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace(">", "\\u003e")
    return f"{MARKER_PREFIX}{text} -->"


def pull_request_number(context: GitHubContext) -> int | None:
    """The pull request this run belongs to, from the event payload; None when there is none."""
    if not context.event_path:
        return None
    try:
        with open(context.event_path, encoding="utf-8") as payload_file:
            payload = json.load(payload_file)
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    number: object = None
    match context.event_name:
        case "pull_request" | "pull_request_target":
            number = (payload.get("pull_request") or {}).get("number", payload.get("number"))
        case "workflow_run":
            # GitHub leaves this list empty when the pull request comes from a fork.
            pulls = (payload.get("workflow_run") or {}).get("pull_requests") or []
            number = pulls[0].get("number") if pulls and isinstance(pulls[0], dict) else None
        case "issue_comment":
            issue = payload.get("issue") or {}
            number = issue.get("number") if issue.get("pull_request") else None
    return number if isinstance(number, int) and not isinstance(number, bool) and number > 0 else None


def render_comment(outcome: Outcome, github: GitHubContext, settings: CommentSettings, template: TemplateSource) -> str:
    """The marker line and the comment, shortened (failed tests first) to fit GitHub's limit."""
    context = template_context(outcome, github, matrix=settings.matrix)
    room = SizeLimit(COMMENT_LIMIT.most - COMMENT_LIMIT.measure(settings.marker) - 1, COMMENT_LIMIT.unit)
    return f"{settings.marker}\n" + fit(renderer(template), context, room)


def find_own_comment(comments: Iterable[Mapping[str, Any]], marker: str, author: str) -> Mapping[str, Any] | None:
    """The comment `author` wrote that starts with the marker. A quote of it (`> <!-- ...`) is not one, and
    neither is a comment someone else wrote starting with the (predictable) marker: it is never edited."""
    for comment in comments:
        login = (comment.get("user") or {}).get("login")
        if str(comment.get("body") or "").startswith(marker) and login == author:
            return comment
    return None


def post_comment(
    outcome: Outcome, settings: CommentSettings, workflow: Workflow, *, clock: Clock, job_summary: bool, template: Path | None = None
) -> None:
    """Create or update this step's pull request comment (from the user's `template` file when given), within
    COMMENT_SECONDS. A GitHub error or a template that fails to render is a warning, never a failed step."""
    if settings.mode is CommentMode.OFF:
        return
    context = workflow.context
    number = pull_request_number(context)
    if number is None or not context.repository:
        workflow.info(f"Pull request comment: skipped, the '{context.event_name or 'unknown'}' event of this run names no pull request.")
        return
    source = TemplateSource.choose(COMMENT_TEMPLATE, template, input_name="comment-template", workspace=context.workspace)
    github = GitHubClient(context.api_url, settings.token, Deadline.after(clock, COMMENT_SECONDS), workflow.redact)
    try:
        write_comment(outcome, settings, workflow, number=number, template=source, github=github)
        return
    except TemplateError as exc:
        problem = str(exc)
    except GitHubError as exc:
        problem = str(exc)
    message = f"Could not write the comment on pull request {number}: {problem}"
    workflow.warning(message, title="Pull request comment")
    if job_summary:
        workflow.write_summary(f"> [!WARNING]\n> {markdown_inline(workflow.redact(message))}\n")


def write_comment(
    outcome: Outcome, settings: CommentSettings, workflow: Workflow, *, number: int, template: TemplateSource, github: GitHubClient
) -> None:
    body = render_comment(outcome, workflow.context, settings, template)
    comments_url = f"repos/{workflow.context.repository}/issues/{number}/comments"
    existing = find_own_comment(github.pages(comments_url), settings.marker, github.identity())
    if existing is not None:
        # With comment: failures a green run still updates it, so it never shows a failure that is fixed.
        github.send("PATCH", str(existing.get("url") or f"repos/{workflow.context.repository}/issues/comments/{existing.get('id')}"), {"body": body})
        workflow.info(f"Pull request comment: updated {existing.get('html_url', '')}")
    elif settings.mode is CommentMode.FAILURES and outcome.status in GREEN:
        workflow.info(f"Pull request comment: none posted, the run is {outcome.status.value} and comment is 'failures'.")
    else:
        created = github.send("POST", comments_url, {"body": body})
        workflow.info(f"Pull request comment: created {created.get('html_url', '') if isinstance(created, dict) else ''}")


class GitHubError(Exception):
    """GitHub refused or could not be reached; the message is one line a user can act on."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status  # GitHub's HTTP status, 0 when it gave none


class GitHubClient:
    """The few REST calls the comment needs, each bounded by the comment's deadline. Only the token of
    input 'github-token' is sent, only to GITHUB_API_URL, and every body sent passes the redaction."""

    def __init__(self, api_url: str, token: str, deadline: Deadline, redact: Callable[[str], str]) -> None:
        self.api_url = api_url.rstrip("/")
        self.deadline = deadline
        self.redact = redact
        self.session = requests.Session()
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "suiterun",
        }

    def identity(self) -> str:
        """The login the token writes comments as. The workflow's GITHUB_TOKEN may not read /user (403):
        its comments are github-actions[bot]'s."""
        try:
            user = self.send("GET", "user")
        except GitHubError as exc:
            if exc.status in (403, 404):
                return WORKFLOW_TOKEN_LOGIN
            raise
        return str(user.get("login") or WORKFLOW_TOKEN_LOGIN) if isinstance(user, dict) else WORKFLOW_TOKEN_LOGIN

    def pages(self, path: str) -> Iterator[Mapping[str, Any]]:
        """Every item of a paginated list, following the Link header (on GITHUB_API_URL only)."""
        url: str | None = f"{self.api_url}/{path}?per_page=100"
        while url:
            response = self._request("GET", url, None)
            items = response.json() if _is_json(response) else None
            if not isinstance(items, list):
                raise GitHubError(f"GitHub answered the list of comments with {describe_body(response.text)}; the results are in the job summary.")
            yield from (item for item in items if isinstance(item, dict))
            following = response.links.get("next", {}).get("url")
            url = following if following and following.startswith(self.api_url + "/") else None

    def send(self, method: str, path: str, body: Mapping[str, str] | None = None) -> Any:
        url = path if path.startswith(self.api_url + "/") else f"{self.api_url}/{path}"
        response = self._request(method, url, {key: self.redact(value) for key, value in body.items()} if body else None)
        return response.json() if _is_json(response) else None

    def _request(self, method: str, url: str, body: Mapping[str, str] | None) -> requests.Response:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise GitHubError(f"GitHub did not answer within {COMMENT_SECONDS:g}s; the results are in the job summary.")
        send = functools.partial(
            self.session.request, method, url, json=body, headers=self.headers, timeout=min(10.0, remaining), allow_redirects=False
        )
        try:
            response = call_within(min(REQUEST_SECONDS, remaining), send)
        except (requests.RequestException, Overdue) as exc:
            raise GitHubError(f"GitHub could not be reached ({type(exc).__name__}); the results are in the job summary.") from None
        if response.status_code >= 300:
            raise GitHubError(describe_github_error(response), response.status_code)
        return response


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")


def describe_github_error(response: requests.Response) -> str:
    """One line a user can act on, naming GitHub's answer."""
    try:
        data = response.json()
    except ValueError:
        data = None
    said = describe_body((data.get("message") if isinstance(data, dict) else None) or "no message")
    match response.status_code:
        case 401:
            advice = "the token in input 'github-token' was rejected; pass a valid token"
        case 403:
            advice = (
                "the token may not write comments. A pull request from a fork gets a read-only token; "
                "otherwise give the job permissions: pull-requests: write"
            )
        case 404:
            advice = "the repository or pull request is not visible to the token in input 'github-token'"
        case _:
            advice = "the results are in the job summary"
    return f"GitHub answered {response.status_code} ({said}): {advice}."
