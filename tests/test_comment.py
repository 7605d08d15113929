"""The sticky pull request comment, end to end against the sandbox and a fake GitHub API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import SandboxServer
from suiterun.comment import COMMENT_TEMPLATE, render_comment
from suiterun.context import CIContext
from suiterun.errors import InputError
from suiterun.inputs import Inputs
from suiterun.render import COMMENT_LIMIT, TemplateSource
from suiterun.results import BuildUnderTest, Detail, Outcome, RunStatus, Snapshot, TestResult, TestStatus, Verdict
from suiterun.settings import CommentMode, CommentSettings, clean_reporting, comment_marker
from tests.contract import BASE_INPUTS
from tests.fake_github import TOKEN, FakeGitHub, running_fake_github
from tests.support import ROOT, ActionRun, run_entrypoint, run_in_process, sandbox_url

REPO = "acme/shop"
IN_ACTIONS = CIContext(workspace=ROOT, in_actions=True)
PR = 17


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with running_fake_github() as fake:
        yield fake


def event(tmp_path: Path, name: str, payload: dict[str, Any]) -> dict[str, str]:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path)}


def pr_event(tmp_path: Path, number: int = PR) -> dict[str, str]:
    return event(tmp_path, "pull_request", {"number": number, "pull_request": {"number": number}})


def run(
    tmp_path: Path,
    sandbox: SandboxServer,
    github: FakeGitHub,
    *,
    scenario: str = "pass",
    env: dict[str, str] | None = None,
    directory: str = "run",
    **inputs: str,
) -> ActionRun:
    """One action run in its own directory (outputs and summary files are appended to)."""
    folder = tmp_path / directory
    folder.mkdir(exist_ok=True)
    given = {
        "vendor": "autosana",
        "api-key": f"sandbox-{scenario}",
        "api-url": sandbox_url(sandbox, "autosana"),
        "poll-interval": "10s",
        **BASE_INPUTS["autosana"],
        "comment": "always",
        "github-token": TOKEN,
        "matrix": "null",
        **{name.replace("_", "-"): value for name, value in inputs.items()},
    }
    environ = {"GITHUB_API_URL": github.url, "GITHUB_ACTION": "autosana", **(env if env is not None else pr_event(tmp_path))}
    return run_in_process(folder, given, server=sandbox, extra_env=environ)


def writes(github: FakeGitHub) -> list[str]:
    return [request.method for request in github.requests if request.method in ("POST", "PATCH")]


def test_a_pull_request_run_creates_one_comment(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    result = run(tmp_path, sandbox, github, scenario="mixed")
    assert result.exit_code == 1 and result.outputs["status"] == "failed"
    (body,) = github.bodies(REPO, PR)
    assert body.startswith('<!-- suiterun:comment {"job":"e2e","matrix":{},"step":"autosana","vendor":"autosana","workflow":"CI"} -->\n')
    assert "### ❌ Autosana: failed" in body
    assert "Checkout with expired card" in body and "Card expired" in body
    assert "[workflow run](https://github.com/acme/shop/actions/runs/4242) attempt 1" in body
    (post,) = github.requests_of("POST")
    assert post.path == f"/repos/{REPO}/issues/{PR}/comments"  # under /api/v3: GITHUB_API_URL is the base
    assert post.headers["authorization"] in (f"token {TOKEN}", f"Bearer {TOKEN}")
    assert "Pull request comment: created https://github.example/acme/shop/pull/17#issuecomment-" in result.log


def test_a_second_run_updates_the_same_comment(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    run(tmp_path, sandbox, github, scenario="mixed", directory="first")
    second = run(tmp_path, sandbox, github, scenario="pass", directory="second", env={**pr_event(tmp_path), "GITHUB_RUN_ATTEMPT": "2"})
    assert second.exit_code == 0
    (body,) = github.bodies(REPO, PR)
    assert "### ✅ Autosana: passed" in body and "attempt 2" in body and "Card expired" not in body
    assert writes(github) == ["POST", "PATCH"]
    assert "Pull request comment: updated" in second.log


def test_failures_mode_posts_nothing_on_a_green_run(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    result = run(tmp_path, sandbox, github, scenario="pass", comment="failures")
    assert result.exit_code == 0
    assert github.bodies(REPO, PR) == [] and writes(github) == []
    assert "none posted, the run is passed and comment is 'failures'" in result.log


def test_failures_mode_turns_its_old_failure_comment_green(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    run(tmp_path, sandbox, github, scenario="mixed", comment="failures", directory="red")
    run(tmp_path, sandbox, github, scenario="pass", comment="failures", directory="green")
    (body,) = github.bodies(REPO, PR)
    assert "### ✅ Autosana: passed" in body
    assert writes(github) == ["POST", "PATCH"]


def test_a_forks_read_only_token_leaves_the_step_green_with_a_warning(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    github.writes_forbidden = True
    result = run(tmp_path, sandbox, github, scenario="pass")
    assert result.exit_code == 0 and result.outputs["status"] == "passed"
    warning = next(line for line in result.log.splitlines() if line.startswith("::warning"))
    assert "title=Pull request comment" in warning
    assert "GitHub answered 403 (Resource not accessible by integration)" in warning and "fork" in warning
    assert "Traceback" not in result.log and "::error" not in result.log
    assert "> [!WARNING]\n> Could not write the comment on pull request 17: GitHub answered 403" in result.summary


def test_a_rejected_token_is_a_warning_naming_the_input(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    result = run(tmp_path, sandbox, github, scenario="pass", github_token="ghs_wrong")
    assert result.exit_code == 0
    assert "GitHub answered 401 (Bad credentials): the token in input 'github-token' was rejected" in result.log
    assert "ghs_wrong" not in result.log.replace("::add-mask::ghs_wrong", "")


def test_unreachable_github_is_a_warning(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    closed = {**pr_event(tmp_path), "GITHUB_API_URL": "http://127.0.0.1:9/api/v3"}  # discard port: connection refused
    result = run(tmp_path, sandbox, github, scenario="pass", env=closed)
    assert result.exit_code == 0
    assert "GitHub could not be reached (ConnectionError)" in result.log


def test_comments_of_other_matrix_entries_vendors_and_quotes_are_not_touched(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    identity = {"vendor": "autosana", "workflow": "CI", "job": "e2e", "step": "autosana"}
    others = [
        comment_marker({**identity, "matrix": {"app": "android"}}) + "\nandroid entry",
        comment_marker({**identity, "vendor": "aiva", "matrix": {"app": "ios"}}) + "\naiva",
        comment_marker({**identity, "step": "second-use", "matrix": {"app": "ios"}}) + "\nanother step",
        "> " + comment_marker({**identity, "matrix": {"app": "ios"}}) + "\na human quoting it",
    ]
    for body in others:
        github.add_comment(REPO, PR, body, login="someone")
    pretty_matrix = json.dumps({"app": "ios"}, indent=2)  # how toJSON(matrix) prints it
    run(tmp_path, sandbox, github, scenario="pass", matrix=pretty_matrix)
    bodies = github.bodies(REPO, PR)
    assert bodies[:4] == others
    assert len(bodies) == 5 and bodies[4].startswith(comment_marker({**identity, "matrix": {"app": "ios"}}))
    assert "✅ Autosana: passed · app: ios" in bodies[4]
    assert writes(github) == ["POST"]


def test_the_own_comment_is_found_on_a_later_page(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    for index in range(150):
        github.add_comment(REPO, PR, f"review remark {index}", login="someone")
    run(tmp_path, sandbox, github, scenario="mixed", directory="first")
    github.requests.clear()
    run(tmp_path, sandbox, github, scenario="pass", directory="second")
    pages = [request.query.get("page", ["1"])[0] for request in github.requests_of("GET") if request.path.endswith("/comments")]
    assert pages == ["1", "2"]
    assert writes(github) == ["PATCH"]
    assert len(github.bodies(REPO, PR)) == 151 and "Autosana: passed" in github.bodies(REPO, PR)[150]


def test_the_token_never_appears_in_log_outputs_or_summary(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    github.writes_forbidden = True  # the error path too
    result = run(tmp_path, sandbox, github, scenario="mixed")
    assert f"::add-mask::{TOKEN}" in result.log
    assert TOKEN not in result.log.replace(f"::add-mask::{TOKEN}", "")
    assert TOKEN not in result.summary and not any(TOKEN in value for value in result.outputs.values())
    settings = CommentSettings.from_inputs(Inputs({"INPUT_COMMENT": "always", "INPUT_GITHUB-TOKEN": TOKEN}), IN_ACTIONS, vendor="autosana", matrix={})
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("push", {"ref": "refs/heads/main"}),
        ("workflow_dispatch", {"inputs": {}}),
        ("workflow_run", {"workflow_run": {"pull_requests": []}}),  # e.g. a pull request from a fork
        ("issue_comment", {"issue": {"number": 5}}),  # a comment on an issue, not a pull request
    ],
)
def test_events_without_a_pull_request_post_nothing(
    name: str, payload: dict[str, Any], tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub
) -> None:
    result = run(tmp_path, sandbox, github, scenario="mixed", env=event(tmp_path, name, payload))
    assert github.requests == []
    assert f"Pull request comment: skipped, the '{name}' event of this run names no pull request." in result.log


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("pull_request_target", {"number": 8, "pull_request": {"number": 8}}),
        ("workflow_run", {"workflow_run": {"pull_requests": [{"number": 8}]}}),
        ("issue_comment", {"issue": {"number": 8, "pull_request": {"url": "https://api.github.com/repos/acme/shop/pulls/8"}}}),
    ],
)
def test_other_pull_request_events_comment_on_their_pull_request(
    name: str, payload: dict[str, Any], tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub
) -> None:
    run(tmp_path, sandbox, github, scenario="pass", env=event(tmp_path, name, payload))
    assert len(github.bodies(REPO, 8)) == 1


def test_comment_off_is_the_default_and_sends_nothing(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    result = run(tmp_path, sandbox, github, scenario="mixed", comment="")
    assert result.outputs["status"] == "failed" and github.requests == []


def test_the_users_comment_template_is_used_after_the_marker(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "comment.md.j2").write_text("Custom: {{ vendor }} {{ status }} {{ counts.failed }}\n", encoding="utf-8")
    run(tmp_path, sandbox, github, scenario="mixed", comment_template="comment.md.j2", directory="run")
    (body,) = github.bodies(REPO, PR)
    assert body.split("\n", 1)[1] == "Custom: Autosana failed 1\n" and body.startswith("<!-- suiterun:comment ")


def test_a_comment_template_failing_to_render_is_a_warning(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    (tmp_path / "run").mkdir()
    # It fails only with the run's data (recursion, as a hostile or careless template can): the check before the run passes.
    recursive = '{% if vendor == "Autosana" %}{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}{% endif %}\n'
    (tmp_path / "run" / "comment.md.j2").write_text(recursive, encoding="utf-8")
    result = run(tmp_path, sandbox, github, scenario="pass", comment_template="comment.md.j2", directory="run")
    assert result.exit_code == 0 and result.outputs["status"] == "passed"
    assert "Could not write the comment on pull request 17: Input 'comment-template': comment.md.j2 line 1: it calls itself" in result.log
    assert "::error" not in result.log
    assert github.requests == []


def test_a_comment_template_that_cannot_render_stops_the_step_before_the_run(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "comment.md.j2").write_text("{{ counts.total / 0 }}\n", encoding="utf-8")
    result = run(tmp_path, sandbox, github, scenario="pass", comment_template="comment.md.j2", directory="run")
    assert result.exit_code == 2 and result.outputs["status"] == "error"
    assert "Input 'comment-template': comment.md.j2 line 1: division by zero" in result.log
    assert result.requests == [] and github.requests == []


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"comment": "yes"}, "Input 'comment' has unsupported value 'yes', expected one of: off, always, failures."),
        ({"comment": "always", "github-token": ""}, "Input 'github-token' is empty but input 'comment' is 'always'"),
        ({"matrix": "[1, 2]"}, "Input 'matrix' must be a JSON object, got list."),
        ({"matrix": "{os: linux}"}, "Input 'matrix' is not valid JSON"),
    ],
)
def test_comment_inputs_are_validated(inputs: dict[str, str], message: str) -> None:
    environ = {f"INPUT_{name.upper()}": value for name, value in {"github-token": TOKEN, **inputs}.items()}
    with pytest.raises(InputError) as raised:
        clean_reporting(Inputs(environ), IN_ACTIONS, vendor="autosana")
    assert message in str(raised.value)


def test_the_marker_cannot_be_closed_by_a_matrix_value() -> None:
    marker = comment_marker({"matrix": {"name": "x --> <b>"}})
    assert marker.count("-->") == 1 and marker.endswith(" -->")
    assert json.loads(marker.removeprefix("<!-- suiterun:comment ").removesuffix(" -->")) == {"matrix": {"name": "x --> <b>"}}


def test_a_huge_comment_is_cut_to_fit_with_failures_first() -> None:
    tests = tuple(TestResult(name=f"flow {index}", status=TestStatus.FAILED, message="x" * 300) for index in range(3000))
    snapshot = Snapshot(tests=(TestResult(name="fine", status=TestStatus.PASSED), *tests), run_url="https://app.example/run/1")
    outcome = Outcome("Autosana", Verdict(RunStatus.FAILED, "3000 tests failed"), snapshot)
    settings = CommentSettings(CommentMode.ALWAYS, TOKEN, comment_marker({"vendor": "autosana"}))
    body = render_comment(outcome, CIContext(workspace=ROOT), settings, TemplateSource.builtin(COMMENT_TEMPLATE), {})
    assert len(body) <= COMMENT_LIMIT.most
    assert body.startswith(settings.marker + "\n") and "flow 0" in body and "fine" not in body
    assert "more failed tests, too many for one comment: see the job summary or [the run in Autosana](https://app.example/run/1)" in body


def test_the_comment_shows_the_build_under_test_and_a_small_screenshot_of_the_failing_step() -> None:
    shot = "https://cdn.vendor.example/r-9/step-3.png?Signature=abc&Expires=1"
    failed = TestResult("Checkout", TestStatus.FAILED, message="Pay did nothing.", details=(Detail("Failing step", "Tap 'Pay'", shot, image=shot),))
    build = BuildUnderTest("app-release.apk", "build-42", 3 * 2**20, "1111111111111111111111111111111111111117", "feature/cart")
    outcome = Outcome("Autosana", Verdict(RunStatus.FAILED, "1 of 1 tests failed"), Snapshot((failed,), True, ("batch-1",), build=build))
    settings = CommentSettings(CommentMode.ALWAYS, TOKEN, comment_marker({"vendor": "autosana"}))
    body = render_comment(outcome, CIContext(workspace=ROOT), settings, TemplateSource.builtin(COMMENT_TEMPLATE), {})
    assert "📦 Build under test: app-release.apk (3.0 MiB) · build id build-42 · commit 111111111111 on feature/cart\n\n| | Failed test |" in body
    assert f'| Pay did nothing. <a href="{shot}"><img src="{shot}" width="120" alt="screenshot"></a> |' in body


def test_jinja_and_the_xml_writer_load_only_after_the_run() -> None:
    # Start-up time: the two costly libraries the reporting uses are not needed before the first request.
    code = "import sys, suiterun.main; print(sorted(m for m in ('jinja2', 'xml.etree.ElementTree') if m in sys.modules))"
    imported = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert imported == "[]"


def test_the_entrypoint_comments_as_a_runner_runs_it(tmp_path: Path, sandbox: SandboxServer, github: FakeGitHub) -> None:
    inputs = {
        "vendor": "autosana",
        "api-key": "sandbox-pass",
        "api-url": sandbox_url(sandbox, "autosana"),
        "wait": "false",  # no real polling: a triggered run is commented too
        **BASE_INPUTS["autosana"],
        "comment": "always",
        "github-token": TOKEN,
    }
    result = run_entrypoint(tmp_path, inputs, server=sandbox, extra_env={"GITHUB_API_URL": github.url, **pr_event(tmp_path)})
    assert result.exit_code == 0, result.log
    (body,) = github.bodies(REPO, PR)
    assert "Autosana: triggered" in body
