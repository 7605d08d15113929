"""Where a run happens, read once per run: the GitHub Actions job (or GitLab, Jenkins, CircleCI, a terminal), its event,
and the commit under test. Every door builds it once (`CIContext.from_environ`) and everything that needs it is given it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suiterun.gitmeta import GitMetadata, GitRunner


@dataclass(frozen=True)
class CIContext:
    """What the runner tells a step about the workflow run it is part of (mostly empty outside GitHub Actions)."""

    workspace: Path
    in_actions: bool = False  # GITHUB_ACTIONS=true: running as a workflow step
    runner_debug: bool = False  # RUNNER_DEBUG=1: the run's debug logging is on (re-run with debug logging, or ACTIONS_STEP_DEBUG)
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    repository: str = ""
    run_id: str = ""
    run_attempt: str = "1"
    run_number: str = ""
    workflow: str = ""
    job: str = ""
    action: str = ""  # the step's id, or a generated `__owner_repo` name for a step without one
    sha: str = ""
    event_name: str = ""
    pull_request: int | None = None  # the pull request (GitLab: merge request) this run belongs to
    base_branch: str = ""  # the branch that pull request goes into
    job_url: str = ""  # outside GitHub Actions: the CI's link to this job (GitLab, Jenkins, CircleCI)
    output_path: str = ""
    summary_path: str = ""
    git: GitMetadata = field(default_factory=GitMetadata)  # the commit, branch and repository under test, from whatever CI this is

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, git: GitRunner | None = None) -> CIContext:
        def env(name: str, default: str = "") -> str:
            return environ.get(name, "") or default

        workspace = Path(env("GITHUB_WORKSPACE", os.getcwd()))
        event_name = env("GITHUB_EVENT_NAME")
        payload = read_event(env("GITHUB_EVENT_PATH"))
        return cls(
            workspace=workspace,
            in_actions=environ.get("GITHUB_ACTIONS") == "true",
            runner_debug=environ.get("RUNNER_DEBUG") == "1",
            server_url=env("GITHUB_SERVER_URL", "https://github.com"),
            api_url=env("GITHUB_API_URL", "https://api.github.com"),
            repository=env("GITHUB_REPOSITORY"),
            run_id=env("GITHUB_RUN_ID"),
            run_attempt=env("GITHUB_RUN_ATTEMPT", "1"),
            run_number=env("GITHUB_RUN_NUMBER"),
            workflow=env("GITHUB_WORKFLOW"),
            job=env("GITHUB_JOB"),
            action=env("GITHUB_ACTION"),
            sha=env("GITHUB_SHA"),
            event_name=event_name,
            pull_request=pull_request_number(event_name, payload) or _whole_number(env("CI_MERGE_REQUEST_IID") or env("CHANGE_ID")),
            # GitHub (pull_request events), GitLab merge request pipelines, Jenkins multibranch change requests.
            base_branch=env("GITHUB_BASE_REF") or env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") or env("CHANGE_TARGET"),
            job_url=env("CI_JOB_URL") or env("BUILD_URL") or env("CIRCLE_BUILD_URL"),
            output_path=env("GITHUB_OUTPUT"),
            summary_path=env("GITHUB_STEP_SUMMARY"),
            git=GitMetadata.from_environ(environ, cwd=workspace, pull_request_head=pull_request_head(event_name, payload), git=git),
        )

    @property
    def step_id(self) -> str:
        """The step's `id:` when the workflow gave one ('' for a generated name)."""
        return "" if self.action.startswith("__") else self.action

    @property
    def run_url(self) -> str:
        if not (self.repository and self.run_id):
            return ""
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


def _whole_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 18 and int(text) > 0 else None


def read_event(path: str) -> dict[str, Any]:
    """The event payload the runner wrote for this job ({} when there is none or it cannot be read)."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as payload_file:
            payload = json.load(payload_file)
    except (OSError, ValueError, RecursionError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _get(payload: Mapping[str, Any], *keys: str) -> Any:
    """payload[k1][k2]..., or None where any level is missing or not an object."""
    value: Any = payload
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def pull_request_number(event_name: str, payload: Mapping[str, Any]) -> int | None:
    """The pull request a run belongs to, from its event; None when there is none."""
    number: object = None
    match event_name:
        case "pull_request" | "pull_request_target":
            number = _get(payload, "pull_request", "number") or payload.get("number")
        case "workflow_run":
            # GitHub leaves this list empty when the pull request comes from a fork.
            pulls = _get(payload, "workflow_run", "pull_requests") or []
            number = pulls[0].get("number") if isinstance(pulls, list) and pulls and isinstance(pulls[0], dict) else None
        case "issue_comment":
            number = _get(payload, "issue", "number") if _get(payload, "issue", "pull_request") else None
    return number if isinstance(number, int) and not isinstance(number, bool) and number > 0 else None


def pull_request_head(event_name: str, payload: Mapping[str, Any]) -> str:
    """A pull request event's head commit (GITHUB_SHA is the merge commit GitHub made, not the one pushed)."""
    if event_name not in ("pull_request", "pull_request_target"):
        return ""
    sha = _get(payload, "pull_request", "head", "sha")
    return sha if isinstance(sha, str) else ""
