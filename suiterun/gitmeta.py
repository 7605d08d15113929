"""Which commit, branch and repository this run tests, from the CI it runs in, else from `git`.

Vendors stamp what they run with it (Autosana's uploads, Test-Lab's build id,
Kapptivate's run name). On a GitHub pull request event GITHUB_SHA is the merge
commit GitHub made, not the commit that was pushed, so the pull request's head
commit is read from the event payload instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Runs `git <args>` in a folder and returns its output ("" when git is missing or fails).
GitRunner = Callable[[list[str], Path], str]


@dataclass(frozen=True)
class GitMetadata:
    commit_sha: str = ""
    branch: str = ""
    repository: str = ""  # owner/name (GitHub, CircleCI), group/project (GitLab)
    source: str = ""  # where it came from: github, gitlab, jenkins, circleci, git, or "" (nowhere)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, cwd: Path, git: GitRunner | None = None) -> GitMetadata:
        def env(name: str) -> str:
            return environ.get(name, "").strip()

        if env("GITHUB_ACTIONS") == "true" or env("GITHUB_SHA"):
            head = _pull_request_head(env("GITHUB_EVENT_NAME"), env("GITHUB_EVENT_PATH"))
            return cls(head or env("GITHUB_SHA"), env("GITHUB_HEAD_REF") or env("GITHUB_REF_NAME"), env("GITHUB_REPOSITORY"), "github")
        if env("GITLAB_CI"):
            branch = env("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or env("CI_COMMIT_REF_NAME")
            return cls(env("CI_COMMIT_SHA"), branch, env("CI_PROJECT_PATH"), "gitlab")
        if env("CIRCLECI"):
            owner, name = env("CIRCLE_PROJECT_USERNAME"), env("CIRCLE_PROJECT_REPONAME")
            return cls(env("CIRCLE_SHA1"), env("CIRCLE_BRANCH"), f"{owner}/{name}" if owner and name else "", "circleci")
        if env("JENKINS_URL") or env("GIT_COMMIT"):
            # Jenkins' Git plugin names the branch as the remote sees it, e.g. origin/main.
            branch = env("CHANGE_BRANCH") or re.sub(r"^origin/", "", env("GIT_BRANCH") or env("BRANCH_NAME"))
            return cls(env("GIT_COMMIT"), branch, repository_from_url(env("GIT_URL")), "jenkins")
        run = git or run_git
        sha = run(["rev-parse", "HEAD"], cwd)
        if not sha:
            return cls()
        branch = run(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
        remote = run(["config", "--get", "remote.origin.url"], cwd)
        return cls(sha, "" if branch == "HEAD" else branch, repository_from_url(remote), "git")


def run_git(args: list[str], cwd: Path) -> str:
    import subprocess  # noqa: PLC0415 - only outside any known CI (start-up time)

    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def repository_from_url(url: str) -> str:
    """`owner/name` from an https or ssh remote URL (`https://host/owner/name.git`, `git@host:owner/name.git`)."""
    text = url.strip().rstrip("/").removesuffix(".git")
    if "://" in text:
        rest = text.split("://", 1)[1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
    elif re.match(r"[\w.-]+@[\w.-]+:", text):  # scp-like: git@host:owner/name
        path = text.split(":", 1)[1]
    else:
        return ""
    path = path.strip("/")
    return path if "/" in path else ""


def _pull_request_head(event_name: str, event_path: str) -> str:
    if event_name not in ("pull_request", "pull_request_target") or not event_path:
        return ""
    try:
        with open(event_path, encoding="utf-8") as payload_file:
            payload = json.load(payload_file)
    except (OSError, ValueError):
        return ""
    head = ((payload.get("pull_request") or {}).get("head") or {}) if isinstance(payload, dict) else {}
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) else ""
