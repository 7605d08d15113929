"""Which commit, branch and repository this run tests, from the CI it runs in, else from `git`.

Vendors stamp what they run with it (Autosana's uploads, Test-Lab's build id,
Kapptivate's run name). On GitHub the commit is, as Autosana's own action takes it
(https://github.com/Autosana/autosana-ci/blob/main/entrypoint.sh): on a pull request
event the pull request's head commit from the event payload (GITHUB_SHA is the merge
commit GitHub made, not the commit that was pushed); otherwise the commit checked out
in the workspace, which differs from GITHUB_SHA after a checkout with `ref:`; and
GITHUB_SHA when the workspace holds no checkout of this repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Runs `git <args>` in a folder and returns its output ("" when git is missing or fails).
GitRunner = Callable[[list[str], Path], str]
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names
# A ref as git check-ref-format allows it, under refs/ (so a crafted HEAD cannot point outside .git).
_REF = re.compile(r"refs/[^\x00-\x20\x7f~^:?*\[\\]+")
_SMALL_FILE = 4096  # bytes: HEAD, a loose ref, a gitdir or commondir file


@dataclass(frozen=True)
class GitMetadata:
    commit_sha: str = ""
    branch: str = ""
    repository: str = ""  # owner/name (GitHub, CircleCI), group/project (GitLab)
    source: str = ""  # where it came from: github, gitlab, jenkins, circleci, git, or "" (nowhere)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, cwd: Path, pull_request_head: str = "", git: GitRunner | None = None) -> GitMetadata:
        """`pull_request_head`: the head commit a GitHub pull request event names (suiterun.context reads the event)."""

        def env(name: str) -> str:
            return environ.get(name, "").strip()

        if env("GITHUB_ACTIONS") == "true" or env("GITHUB_SHA"):
            repository = env("GITHUB_REPOSITORY")
            head = pull_request_head or checked_out_commit(cwd, repository)
            return cls(head or env("GITHUB_SHA"), env("GITHUB_HEAD_REF") or env("GITHUB_REF_NAME"), repository, "github")
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


def checked_out_commit(workspace: Path, repository: str) -> str:
    """The commit checked out in `workspace` when it is a checkout of `repository` (owner/name), read from its
    `.git` without the git program (the action's image has none, and git refuses a workspace owned by another
    user); "" when there is none, it belongs to another repository, or it cannot be read."""
    try:
        git_dir = workspace / ".git"
        if git_dir.is_file():  # a worktree or submodule: `gitdir: <path>`
            pointer = _read_small(git_dir)
            if not pointer.startswith("gitdir:"):
                return ""
            git_dir = workspace / pointer.removeprefix("gitdir:").strip()
        common = git_dir / _read_small(git_dir / "commondir") if (git_dir / "commondir").is_file() else git_dir
        if not repository or repository_from_url(_origin_url(common / "config")).lower() != repository.lower():
            return ""  # another repository checked out in the workspace: its commit is not this run's
        head = _read_small(git_dir / "HEAD")
        if _SHA.fullmatch(head):  # detached, as actions/checkout leaves a commit
            return head
        ref = head.removeprefix("ref:").strip() if head.startswith("ref:") else ""
        if not _REF.fullmatch(ref) or ".." in ref:
            return ""
        return _resolve_ref(ref, git_dir, common)
    except (OSError, UnicodeDecodeError):
        return ""


def _resolve_ref(ref: str, git_dir: Path, common: Path) -> str:
    """A branch's commit: its loose ref file, else its line in packed-refs."""
    for folder in (git_dir, common):
        if (folder / ref).is_file():
            sha = _read_small(folder / ref)
            return sha if _SHA.fullmatch(sha) else ""
    packed = common / "packed-refs"
    if packed.is_file():
        with packed.open(encoding="utf-8") as lines:
            for line in lines:
                sha, _, name = line.strip().partition(" ")
                if name == ref and _SHA.fullmatch(sha):
                    return sha
    return ""


def _origin_url(config: Path) -> str:
    """`remote.origin.url` from a git config file (actions/checkout sets it to the repository's URL)."""
    section = ""
    with config.open(encoding="utf-8") as lines:
        for line in lines:
            text = line.strip()
            if text.startswith("["):
                section = text
            elif section.replace(" ", "") == '[remote"origin"]' and text.partition("=")[0].strip().lower() == "url":
                return text.partition("=")[2].strip()
    return ""


def _read_small(path: Path) -> str:
    with path.open(encoding="utf-8") as file:
        return file.read(_SMALL_FILE).strip()


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
