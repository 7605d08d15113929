"""The sticky pull request comment: created once per vendor, workflow, job, matrix entry and step, then updated in place."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from suiterun.errors import InputError
from suiterun.inputs import Inputs, parse_choice, parse_json
from suiterun.render import COMMENT_LIMIT, SizeLimit, TemplateError, TemplateSource, fit, renderer, template_context
from suiterun.results import Outcome, RunStatus
from suiterun.text import describe_body, markdown_inline
from suiterun.workflow import GitHubContext, Workflow

if TYPE_CHECKING:
    from github.Issue import Issue
    from github.IssueComment import IssueComment

COMMENT_TEMPLATE = "comment.md.j2"
MARKER_PREFIX = "<!-- suiterun:comment "
GREEN = (RunStatus.PASSED, RunStatus.TRIGGERED)


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
        if mode is not CommentMode.OFF and not token:
            raise InputError(
                f"Input 'github-token' is empty but comment is '{mode}': pass a token that may write pull request comments, "
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


def find_own_comment(comments: Iterable[IssueComment], marker: str) -> IssueComment | None:
    # Only a body that starts with the marker counts: a quote of the comment (`> <!-- ...`) is not ours.
    return next((comment for comment in comments if (comment.body or "").startswith(marker)), None)


def post_comment(outcome: Outcome, settings: CommentSettings, workflow: Workflow, *, job_summary: bool, template: Path | None = None) -> None:
    """Create or update this step's pull request comment (from the user's `template` file when given).
    A GitHub error or a template that fails to render is a warning, never a failed step."""
    if settings.mode is CommentMode.OFF:
        return
    context = workflow.context
    number = pull_request_number(context)
    if number is None or not context.repository:
        workflow.info(f"Pull request comment: skipped, the '{context.event_name or 'unknown'}' event of this run names no pull request.")
        return
    source = TemplateSource.choose(COMMENT_TEMPLATE, template, input_name="comment-template", workspace=context.workspace)
    # PyGithub (what actions_toolkit.github wraps) costs a quarter second to import: only pay it when commenting.
    from github import GithubException  # noqa: PLC0415

    try:
        write_comment(outcome, settings, workflow, number, source)
        return
    except TemplateError as exc:
        problem = str(exc)
    except (GithubException, requests.RequestException) as exc:
        problem = describe_github_error(exc)
    message = f"Could not write the comment on pull request {number}: {problem}"
    workflow.warning(message, title="Pull request comment")
    if job_summary:
        workflow.write_summary(f"> [!WARNING]\n> {markdown_inline(workflow.redact(message))}\n")


def write_comment(outcome: Outcome, settings: CommentSettings, workflow: Workflow, number: int, template: TemplateSource) -> None:
    body = render_comment(outcome, workflow.context, settings, template)
    issue = github_issue(workflow.context, settings.token, number)
    existing = find_own_comment(issue.get_comments(), settings.marker)
    if existing is not None:
        # With comment: failures a green run still updates it, so it never shows a failure that is fixed.
        existing.edit(body)
        workflow.info(f"Pull request comment: updated {existing.html_url}")
    elif settings.mode is CommentMode.FAILURES and outcome.status in GREEN:
        workflow.info(f"Pull request comment: none posted, the run is {outcome.status.value} and comment is 'failures'.")
    else:
        created = issue.create_comment(body)
        workflow.info(f"Pull request comment: created {created.html_url}")


def github_issue(context: GitHubContext, token: str, number: int) -> Issue:
    from github import Auth, Github  # noqa: PLC0415
    from urllib3.util.retry import Retry  # noqa: PLC0415

    client = Github(
        auth=Auth.Token(token),
        base_url=context.api_url,  # GitHub Enterprise Server: https://<host>/api/v3
        per_page=100,
        timeout=15,
        user_agent="suiterun",
        lazy=True,  # no GET for the repository or the issue: only the comments are read
        # Reads are retried at once on a gateway error (the comment is best effort and must not hold up the step);
        # a write never is, so no comment is posted twice.
        retry=Retry(total=2, status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET"}), backoff_factor=0, raise_on_status=False),
        # One comment per run needs no client-side throttling (PyGithub sleeps between requests by default).
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return client.get_repo(context.repository).get_issue(number)


def describe_github_error(exc: Exception) -> str:
    """One line a user can act on, naming GitHub's answer."""
    from github import GithubException  # noqa: PLC0415

    if not isinstance(exc, GithubException):
        return f"GitHub could not be reached ({type(exc).__name__}); the results are in the job summary."
    data = exc.data if isinstance(exc.data, dict) else {}
    said = describe_body(data.get("message") or exc.message or "no message")
    match exc.status:
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
    return f"GitHub answered {exc.status} ({said}): {advice}."
