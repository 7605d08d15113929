"""The composite variant's two steps as the runner runs them: composite/install.py sets up (then reuses) the virtual
environment, and the run step's own script hands the job's signals to Python."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sandbox.server import SandboxServer
from tests.hostile import wait_for
from tests.support import ROOT, action_environ, collect_run, sandbox_url

STEPS = {step["id"]: step for step in yaml.safe_load((ROOT / "composite/action.yml").read_text(encoding="utf-8"))["runs"]["steps"]}


def install(tool_cache: Path, output: Path) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "RUNNER_TOOL_CACHE": str(tool_cache), "GITHUB_OUTPUT": str(output)}
    return subprocess.run([sys.executable, str(ROOT / "composite/install.py")], env=environ, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.xdist_group("composite")
def test_the_environment_is_created_once_in_the_tool_cache_and_then_reused(tmp_path: Path) -> None:
    tool_cache, first_output, second_output = tmp_path / "toolcache", tmp_path / "first", tmp_path / "second"
    abandoned, in_progress = tool_cache / "suiterun/py3.11-0123.building-dead", tool_cache / "suiterun/py3.11-0123.building-live"
    for folder in (abandoned, in_progress):
        (folder / "lib").mkdir(parents=True)
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))  # a killed job's, two hours ago
    first = install(tool_cache, first_output)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "creating the Python environment in" in first.stdout
    python = Path(parse_outputs_line(first_output)["python"])
    assert python.is_relative_to(tool_cache / "suiterun") and python.is_file()
    # Exactly the locked packages and versions (installed from wheels, against their hashes).
    frozen = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    locked = re.findall(r"^([a-z0-9-]+==[^ ]+) \\$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M)
    assert {line.lower() for line in frozen.split()} == set(locked)
    second = install(tool_cache, second_output)
    assert second.returncode == 0 and "reusing the Python environment in" in second.stdout
    assert parse_outputs_line(second_output)["python"] == python.as_posix()
    # No half-built folder of its own left, a killed job's removed, and a build another job has under way kept.
    assert sorted(path.name for path in (tool_cache / "suiterun").iterdir()) == sorted([python.parent.parent.name, in_progress.name])


def parse_outputs_line(output: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cancelling_the_run_step_still_reports_cancelled(signum: int, sandbox: SandboxServer, tmp_path: Path) -> None:
    """The step's script as bash runs it: `exec` makes Python the process the runner signals."""
    inputs = {"vendor": "autosana", "api-key": "sandbox-never", "api-url": sandbox_url(sandbox, "autosana"), "suites": "s-1", "app-id": "web"}
    sandbox.reset()
    environ = {
        "PATH": os.environ["PATH"],
        **action_environ(tmp_path, inputs | {"poll-interval": "1s"}),
        "SUITERUN_PYTHON": sys.executable,
        "GITHUB_ACTION_PATH": str(ROOT / "composite"),
    }
    process = subprocess.Popen(["bash", "-c", STEPS["run"]["run"]], cwd=tmp_path, env=environ, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: sum(request["method"] == "GET" for request in sandbox.requests) >= 2)  # the first answer is taken in
    process.send_signal(signum)
    log, _ = process.communicate(timeout=20)
    run = collect_run(tmp_path, process.returncode, log, sandbox)
    assert run.outputs["status"] == "cancelled", run.log
    assert run.exit_code == 1 and "The job was cancelled" in run.summary


def test_the_setup_step_finds_a_python_3_11_or_says_what_to_do(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python3", "python"):  # both too old (or a Store stub that fails)
        (fake_bin / name).write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
        (fake_bin / name).chmod(0o755)
    environ = {"PATH": f"{fake_bin}:/usr/bin:/bin", "GITHUB_ACTION_PATH": str(ROOT / "composite")}
    done = subprocess.run(["bash", "-c", STEPS["setup"]["run"]], env=environ, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "::error title=suiterun::The composite variant needs Python 3.11 or later on the runner: add actions/setup-python" in done.stdout
