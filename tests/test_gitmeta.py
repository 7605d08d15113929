"""Which commit, branch and repository a run tests, in each CI and outside any."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suiterun.gitmeta import GitMetadata, repository_from_url


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
    }
    assert GitMetadata.from_environ(environ, cwd=tmp_path, git=no_git) == GitMetadata("headsha", "feature/x", "acme/shop", "github")


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
