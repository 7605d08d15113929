"""The sticky pull request comment: created once per vendor, workflow, job, matrix entry and step, then updated in place.
What to comment is decided with the other inputs (suiterun.settings.CommentSettings); GitHub is reached through
suiterun.github."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from suiterun.clock import Clock, Deadline
from suiterun.context import CIContext
from suiterun.github import GitHubClient, GitHubError
from suiterun.render import COMMENT_LIMIT, SizeLimit, TemplateError, TemplateSource, fit, renderer, template_context
from suiterun.results import GREEN, Outcome
from suiterun.settings import CommentMode, CommentSettings, Reporting
from suiterun.text import markdown_inline
from suiterun.workflow import Workflow

COMMENT_TEMPLATE = "comment.md.j2"
COMMENT_SECONDS = 30.0  # all of the comment's requests: GitHub being slow never holds up the step for long


def render_comment(outcome: Outcome, github: CIContext, settings: CommentSettings, template: TemplateSource, matrix: Mapping[str, Any]) -> str:
    """The marker line and the comment, shortened (failed tests first) to fit GitHub's limit."""
    context = template_context(outcome, github, matrix=matrix)
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


def post_comment(outcome: Outcome, reporting: Reporting, workflow: Workflow, *, clock: Clock) -> None:
    """Create or update this step's pull request comment (from the user's comment-template when given), within
    COMMENT_SECONDS. A GitHub error or a template that fails to render is a warning, never a failed step."""
    settings = reporting.comment
    if settings.mode is CommentMode.OFF:
        return
    context = workflow.context
    number = context.pull_request
    if number is None or not context.repository:
        workflow.info(f"Pull request comment: skipped, the '{context.event_name or 'unknown'}' event of this run names no pull request.")
        return
    source = TemplateSource.choose(COMMENT_TEMPLATE, reporting.comment_template, input_name="comment-template", workspace=context.workspace)
    github = GitHubClient(context.api_url, settings.token, Deadline.after(clock, COMMENT_SECONDS), workflow.redact, workflow.http_debug)
    try:
        write_comment(outcome, settings, workflow, number=number, template=source, github=github, matrix=reporting.matrix)
        return
    except TemplateError as exc:
        problem = str(exc)
    except GitHubError as exc:
        problem = str(exc)
    message = f"Could not write the comment on pull request {number}: {problem}"
    workflow.warning(message, title="Pull request comment")
    if reporting.job_summary:
        workflow.write_summary(f"> [!WARNING]\n> {markdown_inline(workflow.redact(message))}\n")


def write_comment(
    outcome: Outcome,
    settings: CommentSettings,
    workflow: Workflow,
    *,
    number: int,
    template: TemplateSource,
    github: GitHubClient,
    matrix: Mapping[str, Any],
) -> None:
    body = render_comment(outcome, workflow.context, settings, template, matrix)
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
