"""The action as a runner runs it, against the sandbox: the real entrypoint as a subprocess from another directory where
the process matters (exit code, real time, signals), the same environment in-process (fake clock) for the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.hostile import Answer, batch, hostile_server
from tests.hostile import autosana as autosana_api
from tests.support import ROOT, ActionRun, action_environ, collect_run, run_entrypoint, run_in_process, sandbox_url


def autosana(server: SandboxServer, tmp_path: Path, key: str, inputs: Mapping[str, str] | None = None, *, process: bool = False) -> ActionRun:
    base = {
        "vendor": "autosana",
        "api-key": key,
        "api-url": sandbox_url(server, "autosana"),
        "suites": "suite-1",
        "bundle-id": "com.acme.shop",
        "platform": "android",
        "poll-interval": "1s",
        "timeout": "1m",
    }
    given = {**base, **(inputs or {})}
    return run_entrypoint(tmp_path, given, server=server) if process else run_in_process(tmp_path, given, server=server)


def test_all_pass_exits_0_with_counts(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-pass", process=True)
    assert run.exit_code == 0, run.log
    assert run.outputs["status"] == "passed"
    assert (run.outputs["total"], run.outputs["passed"], run.outputs["failed"]) == ("3", "3", "0")
    assert run.outputs["summary"].strip() == run.summary.strip()
    assert run.outputs["run-url"].startswith("https://autosana.ai/runs/groups/")
    assert "::error" not in run.log


def test_mixed_failures_exit_1_with_messages_in_summary(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-mixed", process=True)
    assert run.exit_code == 1
    assert run.outputs["status"] == "failed"
    assert "Expected the error 'Card expired'" in run.summary
    assert "::error title=Autosana%3A failed::2 of 4 tests failed" in run.log


@pytest.mark.parametrize("key", ["sandbox-terminated", "sandbox-group-error", "sandbox-empty"])
def test_runs_that_are_not_passes(key: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, key)
    assert (run.outputs["status"], run.exit_code) in (("failed", 1), ("error", 3))


def test_fail_on_never_exits_0(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-mixed", {"fail-on": "never"})
    assert run.exit_code == 0
    assert run.outputs["status"] == "failed"


def test_wait_false_makes_no_status_request(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-pass", {"wait": "false"})
    assert run.exit_code == 0
    assert run.outputs["status"] == "triggered"
    assert [r["method"] for r in run.requests] == ["POST"]


def test_a_run_that_never_finishes_stops_at_the_timeout(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-never", {"timeout": "2s"}, process=True)  # real time: the deadline holds in a real process
    assert run.exit_code == 3
    assert run.outputs["status"] == "timeout"
    assert run.outputs["pending"] == "3"
    assert "timed out" in run.summary


def test_503_429_and_html_while_polling_do_not_break_a_run(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-pass+flaky")
    assert run.exit_code == 0, run.log
    assert run.outputs["status"] == "passed"
    assert "HTTP 503" in run.log and "HTTP 429" in run.log and "HTML" in run.log


def test_wrong_key_gives_a_clear_error(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "not-a-real-key-123", process=True)
    assert run.exit_code == 3
    assert run.outputs["status"] == "error"
    assert "Autosana rejected the API key (HTTP 401" in run.log
    assert "Traceback" not in run.log
    assert "not-a-real-key-123" not in run.summary + "".join(run.outputs.values())


def test_hostile_vendor_text_leaves_the_table_intact_and_injects_nothing(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = autosana(sandbox, tmp_path, "sandbox-injection")
    assert run.exit_code == 1
    commands = [line for line in run.log.splitlines() if line.startswith(("::", "##["))]
    # The failed test's own annotation (title = its name) and the run's; the vendor's `::` is broken up.
    assert [line.split("::")[1] for line in commands[1:]] == ["error title=a | b <img src=x> @someone", "error title=Autosana%3A failed"], commands
    assert commands[0].startswith("::add-mask::")
    rows = [line for line in run.summary.splitlines() if line.startswith(("| ✅", "| ❌"))]
    assert len(rows) == 2 and all(row.count(" | ") == 4 for row in rows), rows  # five cells each
    assert any("a \\| b &lt;img src=x&gt; @\u200bsomeone" in row for row in rows)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_cancelled_job_still_writes_the_summary_and_outputs(signum: int, sandbox: SandboxServer, tmp_path: Path) -> None:
    inputs = {
        "vendor": "autosana",
        "api-key": "sandbox-never",
        "api-url": sandbox_url(sandbox, "autosana"),
        "suites": "suite-1",
        "app-id": "web",
        "poll-interval": "1s",
    }
    sandbox.reset()
    environ = {"PATH": os.environ.get("PATH", ""), **action_environ(tmp_path, inputs)}
    process = subprocess.Popen([sys.executable, str(ROOT / "entrypoint.py")], cwd=tmp_path, env=environ, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    # The second status read: by then the action has taken in the first answer (3 pending tests).
    while sum(r["method"] == "GET" for r in sandbox.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # real time: waiting for a real subprocess to start polling
    process.send_signal(signum)
    log, _ = process.communicate(timeout=20)
    run = collect_run(tmp_path, process.returncode, log, sandbox)
    assert run.exit_code == 1, run.log
    assert run.outputs["status"] == "cancelled", run.log
    assert run.outputs["pending"] == "3"
    assert "The job was cancelled" in run.summary
    assert "Traceback" not in run.log


# Python writes a pipe in the ANSI code page on Windows: cp1252 on GitHub's Windows runners and many Jenkins agents.
WINDOWS_PIPE = {"PYTHONIOENCODING": "cp1252"}
NAMED_IN_JAPANESE = batch([("ログイン", "failed", "画面が表示されない")])


def test_a_windows_runner_gets_test_names_in_any_script_as_utf8(tmp_path: Path) -> None:
    """The composite variant on Windows: the runner reads the step's output as UTF-8, whatever Python's default."""
    with hostile_server(autosana_api(status=Answer(body=NAMED_IN_JAPANESE))) as vendor:
        inputs = {"vendor": "autosana", "api-key": "key-0123456789abcdef", "api-url": vendor.url, "suites": "s-1", "app-id": "web"}
        run = run_entrypoint(tmp_path, {**inputs, "poll-interval": "1s"}, extra_env=WINDOWS_PIPE)
    assert (run.exit_code, run.outputs["status"]) == (1, "failed"), run.log
    assert "  FAILED ログイン: 画面が表示されない" in run.log.splitlines()
    assert "::error title=ログイン::Autosana test failed: 画面が表示されない" in run.log


def test_with_arguments_the_entrypoint_is_the_command(tmp_path: Path) -> None:
    """`docker run IMAGE suiterun run ...` on a CI system other than GitHub Actions, with a terminal that lacks letters."""
    with hostile_server(autosana_api(status=Answer(body=NAMED_IN_JAPANESE))) as vendor:
        command = ["suiterun", "run", "--vendor", "autosana", "--api-url", vendor.url, "--suites", "s-1", "--app-id", "web", "--poll-interval", "1s"]
        environ = {"PATH": os.environ["PATH"], "SUITERUN_API_KEY": "key-0123456789abcdef", **WINDOWS_PIPE}
        done = subprocess.run(
            [sys.executable, str(ROOT / "entrypoint.py"), *command, "--outputs-file", "outputs.json"],
            cwd=tmp_path,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert "  FAILED \\u30ed\\u30b0\\u30a4\\u30f3: \\u753b" in done.stdout  # escaped, and the report goes on
    assert json.loads((tmp_path / "outputs.json").read_text(encoding="utf-8"))["status"] == "failed"
    version = subprocess.run([sys.executable, str(ROOT / "entrypoint.py"), "--version"], capture_output=True, text=True, timeout=30, check=True)
    assert version.stdout.startswith("suiterun ")  # the leading `suiterun` is optional
