"""Regression tests for the defects found by attacking the action (issue 12), one or more per defect, numbered as there."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sandbox.server import SandboxServer
from suiterun import comment, render
from suiterun import github as github_client
from suiterun.clock import SystemClock
from suiterun.http import Limits
from suiterun.settings import comment_marker
from tests.contract import BASE_INPUTS
from tests.fake_github import TOKEN, FakeGitHub, running_fake_github
from tests.hostile import Answer, autosana, batch, hostile_server, wait_for
from tests.support import ROOT, ActionRun, action_environ, collect_run, run_in_process, sandbox_url

KEY = "k_autosana_secret_9f8e7d"
PR = {"number": 17, "pull_request": {"number": 17}}


def autosana_inputs(url: str, key: str = KEY, **inputs: str) -> dict[str, str]:
    given = {"vendor": "autosana", "api-key": key, "api-url": url, "suites": "s-1", "app-id": "web", "poll-interval": "1s", "timeout": "1m"}
    return {**given, **{name.replace("_", "-"): value for name, value in inputs.items()}}


def run_autosana(tmp_path: Path, url: str, key: str = KEY, **inputs: str) -> ActionRun:
    return run_in_process(tmp_path, autosana_inputs(url, key, **inputs))


def everything(run: ActionRun, tmp_path: Path) -> str:
    """All a run left behind where people and later steps can read it."""
    files = [path.read_text(encoding="utf-8", errors="replace") for path in tmp_path.rglob("*") if path.is_file()]
    return "\n".join([run.log, run.summary, *run.outputs.values(), *files])


def pr_environ(tmp_path: Path, github: FakeGitHub) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(PR), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_API_URL": github.url, "GITHUB_ACTION": "e2e"}


@pytest.fixture
def github() -> Any:
    with running_fake_github() as fake:
        yield fake


# 1 (high): the key a vendor echoes in an error must not reach the pull request comment.
def test_1_a_key_echoed_by_the_vendor_never_reaches_the_comment(tmp_path: Path, github: FakeGitHub) -> None:
    with hostile_server(autosana(trigger=Answer(403, {"detail": f"key {KEY} is not allowed"}))) as vendor:
        inputs = {"vendor": "autosana", "api-key": KEY, "api-url": vendor.url, "suites": "s-1", "app-id": "web"}
        inputs |= {"comment": "always", "github-token": TOKEN, "matrix": "null"}
        run = run_in_process(tmp_path, inputs, extra_env=pr_environ(tmp_path, github))
    (body,) = github.bodies("acme/shop", 17)
    assert run.outputs["status"] == "error" and "is not allowed" in body
    assert KEY not in body and KEY not in everything(run, tmp_path).replace(f"::add-mask::{KEY}", "")


# 2 (high): escaping ran before redaction, so the Markdown-escaped key slipped through.
def test_2_a_key_echoed_in_a_401_is_redacted_before_any_escaping(tmp_path: Path, github: FakeGitHub) -> None:
    with hostile_server(autosana(trigger=Answer(401, {"detail": f"invalid key {KEY}"}))) as vendor:
        inputs = {"vendor": "autosana", "api-key": KEY, "api-url": vendor.url, "suites": "s-1", "app-id": "web", "comment": "always"}
        run = run_in_process(tmp_path, inputs | {"github-token": TOKEN, "matrix": "null"}, extra_env=pr_environ(tmp_path, github))
    escaped = KEY.replace("_", "\\_")
    texts = [run.summary, run.outputs["summary"], run.outputs["results"], *github.bodies("acme/shop", 17)]
    assert all(KEY not in text and escaped not in text and "9f8e7d" not in text for text in texts), texts
    assert "invalid key \\*\\*\\*" in run.summary


# 3 (high): a body that drips in byte by byte cannot keep the step past `timeout`.
def test_3_a_dripping_status_body_ends_at_the_timeout_with_a_report(tmp_path: Path) -> None:
    dripping = Answer(body=batch([("Login", "passed", "")]), drip_seconds=1.0)
    with hostile_server(autosana(status=dripping)) as vendor:
        started = time.monotonic()
        run = run_in_process(tmp_path, autosana_inputs(vendor.url, timeout="2s"), clock=SystemClock())
        elapsed = time.monotonic() - started
    assert run.outputs["status"] == "timeout", run.log
    assert run.exit_code == 3 and "timed out" in run.summary
    assert elapsed < 5, elapsed


def test_3_a_dripping_trigger_answer_ends_at_the_timeout_too(tmp_path: Path) -> None:
    with hostile_server(autosana(trigger=Answer(body={"status": "success", "batch_id": "b"}, drip_seconds=1.0))) as vendor:
        started = time.monotonic()
        run = run_in_process(tmp_path, autosana_inputs(vendor.url, timeout="2s"), clock=SystemClock())
    assert run.outputs["status"] == "timeout" and time.monotonic() - started < 4
    assert "a run may have been created" in run.summary


# 4 (medium) and 9 (low): JSON-, XML-, URL- and base64-escaped echoes of the key.
@pytest.mark.parametrize(
    "echo",
    [
        lambda key: key,
        lambda key: quote(key, safe=""),
        lambda key: base64.b64encode(key.encode()).decode(),
        lambda key: base64.urlsafe_b64encode(key.encode()).decode().rstrip("="),
    ],
    ids=["raw", "url-encoded", "base64", "base64url"],
)
def test_4_9_a_key_with_markup_characters_is_redacted_in_every_form_from_every_file(echo: Any, tmp_path: Path) -> None:
    key = 'ab&cd<ef"gh\\ij'
    failed = batch([("Login", "failed", f"the server said: {echo(key)}"), (f"checkout {echo(key)}", "passed", "")])
    with hostile_server(autosana(status=Answer(body=failed))) as vendor:
        run = run_autosana(tmp_path, vendor.url, key, junit_file="r/junit.xml", ctrf_file="r/ctrf.json")
    assert run.outputs["status"] == "failed"
    written = everything(run, tmp_path).replace(f"::add-mask::{key}", "")
    forms = [key, echo(key), json.dumps(key)[1:-1], "ab&amp;cd&lt;ef&quot;gh", 'ab&amp;cd&lt;ef"gh', quote(key, safe="")]
    assert not [form for form in forms if form in written]
    junit = (tmp_path / "r/junit.xml").read_text(encoding="utf-8")
    assert "the server said: ***" in junit and json.loads((tmp_path / "r/ctrf.json").read_text(encoding="utf-8"))


# 5 (medium): a one-character secret turned every "1" in the outputs into ***.
def test_5_short_secret_values_are_not_redacted_and_cannot_wreck_outputs(sandbox: SandboxServer, tmp_path: Path) -> None:
    cookies = json.dumps([{"name": "session", "value": "1", "domain": "shop.example"}])
    inputs = {"vendor": "test-lab", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "test-lab"), "tests": "1", "cookies": cookies}
    run = run_in_process(tmp_path, inputs, server=sandbox)
    assert run.outputs["status"] == "triggered" and run.outputs["total"] == "1"
    assert "***" not in run.outputs["run-ids"] and json.loads(run.outputs["results"])["counts"]["total"] == 1


def test_5_a_key_too_short_to_be_real_is_refused_and_never_redacted_into_outputs(tmp_path: Path) -> None:
    run = run_autosana(tmp_path, "http://127.0.0.1:9", "e")
    assert run.outputs["status"] == "error" and run.exit_code == 2
    assert "too short to be an API key" in run.log and "::add-mask::" not in run.log


# 6 (medium): a lone surrogate (a truncated emoji) in vendor text lost the whole report.
def test_6_a_lone_surrogate_in_a_test_name_is_replaced_not_fatal(tmp_path: Path) -> None:
    # What json.dumps writes for a name cut in the middle of an emoji: a lone high surrogate.
    raw = json.dumps(batch([("Checkout \ud83d", "failed", "")])).encode()
    with hostile_server(autosana(status=Answer(body=raw))) as vendor:
        run = run_autosana(tmp_path, vendor.url, fail_on="never", junit_file="junit.xml")
    assert run.exit_code == 0 and run.outputs["status"] == "failed"
    assert "Checkout \ufffd" in run.summary and "Checkout \ufffd" in json.loads(run.outputs["results"])["tests"][0]["name"]
    assert (tmp_path / "junit.xml").is_file()


# 7 (medium): a comment someone else wrote, starting with the action's marker, must not be taken over.
def test_7_another_users_comment_with_the_marker_is_never_edited(sandbox: SandboxServer, tmp_path: Path, github: FakeGitHub) -> None:
    marker = comment_marker({"job": "e2e", "matrix": {}, "step": "e2e", "vendor": "autosana", "workflow": "CI"})
    github.add_comment("acme/shop", 17, f"{marker}\nI wrote this, not the action", login="mallory")
    inputs = {"vendor": "autosana", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "autosana"), **BASE_INPUTS["autosana"]}
    inputs |= {"comment": "always", "github-token": TOKEN, "matrix": "null", "poll-interval": "5s"}
    run_in_process(tmp_path, inputs, server=sandbox, extra_env=pr_environ(tmp_path, github))
    bodies = github.bodies("acme/shop", 17)
    assert bodies[0].endswith("I wrote this, not the action") and len(bodies) == 2
    assert bodies[1].startswith(marker) and [r.method for r in github.requests if r.method != "GET"] == ["POST"]


# 8 (medium): the key went over plain http:// to another host, silently.
def test_8_plain_http_to_another_host_needs_allow_http(tmp_path: Path) -> None:
    for folder in ("refused", "allowed"):
        (tmp_path / folder).mkdir()
    refused = run_autosana(tmp_path / "refused", "http://vendor.example.invalid")
    assert refused.exit_code == 2 and "would send the API key unencrypted" in refused.log and refused.requests == []
    allowed = run_autosana(tmp_path / "allowed", "http://vendor.example.invalid", allow_http="true")
    assert allowed.exit_code == 3 and "cannot reach Autosana at vendor.example.invalid" in allowed.log


# 10 (low): a long message followed by the key was cut before redaction, printing a prefix of the key.
def test_10_redaction_comes_before_cutting(tmp_path: Path) -> None:
    with hostile_server(autosana(trigger=Answer(400, {"detail": "x" * 285 + " " + KEY}))) as vendor:
        run = run_autosana(tmp_path, vendor.url)
    assert run.outputs["status"] == "error"
    assert KEY[:8] not in everything(run, tmp_path).replace(f"::add-mask::{KEY}", "")


# 14 (low): runaway loops in a template are bounded by time.
def test_14_a_template_with_runaway_loops_is_stopped(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, tmp_path: Path) -> None:
    monkeypatch.setattr(render, "RENDER_SECONDS", 0.5)
    (tmp_path / "loops.md.j2").write_text("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", encoding="utf-8")
    started = time.monotonic()
    run = run_autosana(tmp_path, sandbox_url(sandbox, "autosana"), "sandbox-pass", summary_template="loops.md.j2")
    assert time.monotonic() - started < 5
    assert run.exit_code == 2 and "loops.md.j2" in run.log and "rendering took longer than 0.5s" in run.log


# 16 (low): a GitHub API that accepts the connection and never answers held the step for 46 s.
def test_16_a_github_api_that_never_answers_is_bounded(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, tmp_path: Path) -> None:
    monkeypatch.setattr(comment, "COMMENT_SECONDS", 1.5)
    monkeypatch.setattr(github_client, "REQUEST_LIMITS", Limits(1.0, 1.0, 1.0))
    with hostile_server(lambda method, path: Answer(hang=True)) as silent, running_fake_github() as fake:
        environ = pr_environ(tmp_path, fake) | {"GITHUB_API_URL": silent.url}
        inputs = {"vendor": "autosana", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "autosana"), **BASE_INPUTS["autosana"]}
        started = time.monotonic()
        run = run_in_process(tmp_path, inputs | {"comment": "always", "github-token": TOKEN, "matrix": "null"}, server=sandbox, extra_env=environ)
        elapsed = time.monotonic() - started
    assert run.exit_code == 0 and run.outputs["status"] == "passed"
    assert "Could not write the comment on pull request 17: GitHub" in run.log
    assert elapsed < 4, elapsed


# 18 (low): one SIGTERM during a slow TestCLIX status read; the reader pool kept the process 22 s.
def test_18_testclix_exits_at_once_when_cancelled_during_a_slow_read(tmp_path: Path) -> None:
    executed: list[str] = []

    def behave(method: str, path: str) -> Answer:
        if method == "POST":
            executed.append(path)
            return Answer(body={"status": "queued"})
        return Answer(hang=True) if executed else Answer(body={"status": "pass"})  # reads after the executes never answer

    with hostile_server(behave) as vendor:
        inputs = {"vendor": "testclix", "api-key": "sandbox-pass", "api-url": vendor.url, "tests": "t-1,t-2", "poll-interval": "1s"}
        environ = {"PATH": os.environ.get("PATH", ""), **action_environ(tmp_path, inputs)}
        process = subprocess.Popen([sys.executable, str(ROOT / "entrypoint.py")], cwd=tmp_path, env=environ, stdout=subprocess.PIPE, text=True)
        wait_for(lambda: sum(method == "GET" for method, _ in vendor.requests) >= 4)  # two baseline reads, then the two slow ones
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        log, _ = process.communicate(timeout=20)
        elapsed = time.monotonic() - started
    run = collect_run(tmp_path, process.returncode, log, None)
    assert run.outputs["status"] == "cancelled", run.log
    assert elapsed < 2, elapsed


# 19 (low): an unwritable job summary turned a passed run red and skipped the rest.
def test_19_an_unwritable_job_summary_is_a_warning(sandbox: SandboxServer, tmp_path: Path, github: FakeGitHub) -> None:
    inputs = {"vendor": "autosana", "api-key": "sandbox-mixed", "api-url": sandbox_url(sandbox, "autosana"), **BASE_INPUTS["autosana"]}
    inputs |= {"fail-on": "never", "comment": "always", "github-token": TOKEN, "matrix": "null"}
    run = run_in_process(tmp_path, inputs, server=sandbox, extra_env={**pr_environ(tmp_path, github), "GITHUB_STEP_SUMMARY": "/dev/full"})
    assert run.exit_code == 0 and run.outputs["status"] == "failed"
    assert "::warning title=No job summary::Could not write the job summary to /dev/full" in run.log
    assert "::warning title=Checkout with expired card::" in run.log  # the annotations still come
    assert len(github.bodies("acme/shop", 17)) == 1  # and the comment


# 20 (low): inputs that gave "Internal error" instead of a message naming them.
@pytest.mark.parametrize(
    ("vendor", "inputs", "message"),
    [
        ("aiva", {"labels": "smoke", "max-agents": "²"}, "Input 'max-agents' must be a whole number"),
        ("test-lab", {"tests": "²"}, "Input 'tests' must be a list of Test-Lab test plan ids"),
        ("test-lab", {"project-id": "²"}, "Input 'project-id' must be a whole number"),
        ("test-lab", {"project-id": "9" * 5000}, "Input 'project-id' must be a whole number"),
        ("kapptivate", {"tests": "9" * 5000, "devices": '{"d": "x"}', "api-url": "https://acme.kapptivate.com"}, "Input 'tests' must be a list"),
    ],
)
def test_20_malformed_numbers_are_input_errors(vendor: str, inputs: dict[str, str], message: str, tmp_path: Path) -> None:
    run = run_in_process(tmp_path, {"vendor": vendor, "api-key": "sandbox-pass", **inputs})
    assert run.exit_code == 2 and message in run.log and "Internal error" not in run.log
    assert len(run.log) < 2000  # the 5000 digits are not echoed back whole
