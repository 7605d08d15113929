"""The CI context a run reads once: which commit, branch and repository it tests, in each CI and outside any, and
the pull request its event names."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from suiterun.context import CIContext
from suiterun.gitmeta import GitMetadata, checked_out_commit, repository_from_url
from tests.support import fake_checkout

CHECKED_OUT = "c0ffee" * 6 + "c0ff"  # 40 hex digits: a commit other than GITHUB_SHA
PUSH = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "pushsha", "GITHUB_EVENT_NAME": "push", "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/shop"}


def no_git(args: list[str], cwd: Path) -> str:
    raise AssertionError("git must not be asked when the CI says")


def test_a_github_pull_request_tests_its_head_commit_not_the_merge_commit(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 5, "head": {"sha": "headsha"}}}), encoding="utf-8")
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": "mergesha",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_HEAD_REF": "feature/x",
        "GITHUB_REF_NAME": "5/merge",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    context = CIContext.from_environ(environ, git=no_git)  # reads the event once: the head commit and the pull request
    assert (context.git, context.pull_request) == (GitMetadata("headsha", "feature/x", "acme/shop", "github"), 5)


def test_a_github_push_tests_github_sha(tmp_path: Path) -> None:
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "pushsha", "GITHUB_EVENT_NAME": "push", "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "a/b"}
    assert GitMetadata.from_environ(environ, cwd=tmp_path, git=no_git) == GitMetadata("pushsha", "main", "a/b", "github")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"GITLAB_CI": "true", "CI_COMMIT_SHA": "s1", "CI_COMMIT_REF_NAME": "main", "CI_PROJECT_PATH": "group/sub/app"},
            GitMetadata("s1", "main", "group/sub/app", "gitlab"),
        ),
        (
            {
                "GITLAB_CI": "true",
                "CI_COMMIT_SHA": "s1",
                "CI_COMMIT_REF_NAME": "x",
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feat",
                "CI_PROJECT_PATH": "g/a",
            },
            GitMetadata("s1", "feat", "g/a", "gitlab"),
        ),
        (
            {"JENKINS_URL": "https://ci", "GIT_COMMIT": "s2", "GIT_BRANCH": "origin/main", "GIT_URL": "https://github.com/acme/shop.git"},
            GitMetadata("s2", "main", "acme/shop", "jenkins"),
        ),
        (
            {"CIRCLECI": "true", "CIRCLE_SHA1": "s3", "CIRCLE_BRANCH": "dev", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "shop"},
            GitMetadata("s3", "dev", "acme/shop", "circleci"),
        ),
    ],
)
def test_other_cis_say_it_in_their_own_variables(environ: dict[str, str], expected: GitMetadata, tmp_path: Path) -> None:
    assert GitMetadata.from_environ(environ, cwd=tmp_path, git=no_git) == expected


def test_elsewhere_git_is_asked(tmp_path: Path) -> None:
    answers = {"rev-parse HEAD": "s4", "rev-parse --abbrev-ref HEAD": "topic", "config --get remote.origin.url": "git@github.com:acme/shop.git"}
    metadata = GitMetadata.from_environ({}, cwd=tmp_path, git=lambda args, cwd: answers[" ".join(args)])
    assert metadata == GitMetadata("s4", "topic", "acme/shop", "git")


def test_no_ci_and_no_git_repository_gives_nothing(tmp_path: Path) -> None:
    assert GitMetadata.from_environ({}, cwd=tmp_path) == GitMetadata()  # tmp_path is no git checkout: git answers nothing


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("https://github.com/acme/shop.git", "acme/shop"),
        ("https://github.com/acme/shop", "acme/shop"),
        ("git@github.com:acme/shop.git", "acme/shop"),
        ("ssh://git@gitlab.example:2222/group/sub/app.git", "group/sub/app"),
        ("https://gitlab.example/group/sub/app.git/", "group/sub/app"),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_repository_from_url(url: str, repository: str) -> None:
    assert repository_from_url(url) == repository


@pytest.mark.parametrize("branch", ["", "release/2.1"])
def test_a_checkout_with_ref_stamps_the_checked_out_commit_not_github_sha(tmp_path: Path, branch: str) -> None:
    fake_checkout(tmp_path, CHECKED_OUT, branch=branch)
    assert GitMetadata.from_environ(PUSH, cwd=tmp_path, git=no_git) == GitMetadata(CHECKED_OUT, "main", "acme/shop", "github")


def test_the_pull_request_head_still_wins_over_the_checkout(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": "headsha"}}}), encoding="utf-8")
    fake_checkout(tmp_path, CHECKED_OUT)
    environ = {**PUSH, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_WORKSPACE": str(tmp_path)}
    assert CIContext.from_environ(environ, git=no_git).git.commit_sha == "headsha"


def test_a_branch_kept_in_packed_refs_and_a_worktree_checkout_are_read(tmp_path: Path) -> None:
    main = tmp_path / "main"
    git = fake_checkout(main, CHECKED_OUT, branch="topic")
    (git / "refs" / "heads" / "topic").unlink()
    (git / "packed-refs").write_text(f"# pack-refs with: peeled fully-peeled sorted\n{'1' * 40} refs/heads/main\n{CHECKED_OUT} refs/heads/topic\n")
    assert checked_out_commit(main, "acme/shop") == CHECKED_OUT
    # A worktree: .git is a file naming its own git folder, whose commondir holds the config, refs and packed-refs.
    worktree, own = tmp_path / "wt", git / "worktrees" / "wt"
    own.mkdir(parents=True)
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {own}\n")
    (own / "commondir").write_text("../..\n")
    (own / "HEAD").write_text("ref: refs/heads/topic\n")
    assert checked_out_commit(worktree, "acme/shop") == CHECKED_OUT


@pytest.mark.parametrize(
    "spoil",
    [
        lambda git: (git / "config").write_text('[remote "origin"]\n\turl = https://github.com/someone/else.git\n'),  # another repository
        lambda git: (git / "config").write_text("[core]\n"),  # no origin: whose checkout is it?
        lambda git: (git / "HEAD").write_text("ref: refs/../../../outside\n"),  # a crafted HEAD never leaves .git
        lambda git: (git / "HEAD").write_text("ref: refs/heads/gone\n"),  # a branch with no commit yet
        lambda git: (git / "HEAD").write_text("not a commit\n"),
        lambda git: (git / "HEAD").write_bytes(b"\xff\xfe"),
        lambda git: (git / "HEAD").unlink(),
    ],
)
def test_a_checkout_that_cannot_be_this_repositorys_commit_leaves_github_sha(tmp_path: Path, spoil: Callable[[Path], object]) -> None:
    spoil(fake_checkout(tmp_path, CHECKED_OUT))
    assert GitMetadata.from_environ(PUSH, cwd=tmp_path, git=no_git).commit_sha == "pushsha"


def test_without_a_checkout_github_sha_is_stamped(tmp_path: Path) -> None:
    assert GitMetadata.from_environ(PUSH, cwd=tmp_path, git=no_git).commit_sha == "pushsha"


def test_what_git_itself_wrote_is_read_like_git_rev_parse_head(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("remote", "add", "origin", "https://github.com/acme/shop.git")
    git("commit", "-q", "--allow-empty", "-m", "one")
    first = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "two")
    git("pack-refs", "--all")  # the branch now lives in packed-refs only
    assert checked_out_commit(tmp_path, "acme/shop") == git("rev-parse", "HEAD") != first
    git("checkout", "-q", "--detach", first)
    assert checked_out_commit(tmp_path, "ACME/Shop") == first
