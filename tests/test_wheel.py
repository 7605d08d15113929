"""The `suiterun` command as a user of another CI gets it: a wheel of this repository installed into a fresh virtual
environment, run against the sandbox with no GITHUB_* variable at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from suiterun import __version__
from suiterun.interface import INPUTS
from tests.support import ROOT, sandbox_url

# One worker builds the wheel and the venv once; every test runs the installed command.
pytestmark = [pytest.mark.xdist_group("wheel"), pytest.mark.io]
UV = Path(sys.executable).parent / "uv"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    command: Path  # the `suiterun` console script in the fresh venv


@pytest.fixture(scope="session")  # session: other modules' tests run in between on this worker
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("suiterun", "vendors", "templates"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(work / "dist"), str(source)]
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = (work / "dist").glob("suiterun-*.whl")
    venv = work / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(UV), "pip", "install", "--quiet", "--python", str(python)]
    subprocess.run([*install, "--require-hashes", "-r", str(ROOT / "requirements.txt")], check=True)
    subprocess.run([*install, "--no-deps", str(wheel)], check=True)
    yield Installed(wheel, venv / "bin" / "suiterun")


def suiterun(installed: Installed, cwd: Path, *args: str, key: str = "sandbox-pass") -> subprocess.CompletedProcess[str]:
    """The command as a GitLab or Jenkins job runs it: no GITHUB_* variable, the key in SUITERUN_API_KEY, another folder."""
    environ = {"PATH": os.environ["PATH"], "HOME": str(cwd), "SUITERUN_API_KEY": key}
    return subprocess.run([str(installed.command), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120, check=False)


def autosana(server: SandboxServer) -> list[str]:
    url = sandbox_url(server, "autosana")
    return ["run", "--vendor", "autosana", "--api-url", url, "--suites", "s-1", "--app-id", "web", "--poll-interval", "1s"]


def test_the_wheel_installs_only_the_suiterun_package_with_its_templates(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"suiterun", f"{installed.wheel.name.split('-py3')[0]}.dist-info"}
    assert {"suiterun/templates/summary.md.j2", "suiterun/templates/comment.md.j2", "suiterun/vendors/autosana.py"} <= set(names)


def test_a_red_run_prints_plain_lines_and_writes_the_files(installed: Installed, sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.reset()
    files = ["--junit-file", "reports/junit.xml", "--summary-file", "summary.md", "--outputs-file", "outputs.json"]
    done = suiterun(installed, tmp_path, *autosana(sandbox), *files, key="sandbox-mixed")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith(("::", "##["))]  # no workflow command outside GitHub Actions
    assert "Autosana: failed (2 of 4 tests failed)" in lines
    assert any(line.startswith("  4 tests: 2 passed, 1 failed, 1 errored, 0 skipped, 0 pending, in ") for line in lines)
    assert any(line.startswith("  FAILED Checkout with expired card: Expected the error 'Card expired'") and "https://" in line for line in lines)
    outputs = json.loads((tmp_path / "outputs.json").read_text(encoding="utf-8"))
    assert (outputs["status"], outputs["failed"], outputs["junit-file"]) == ("failed", "1", "reports/junit.xml")
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## ❌ Autosana")
    assert "<testsuites" in (tmp_path / "reports/junit.xml").read_text(encoding="utf-8")
    assert "sandbox-mixed" not in done.stdout + (tmp_path / "outputs.json").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Exit:
    args: tuple[str, ...]
    key: str
    code: int
    said: str


@pytest.mark.parametrize(
    "expected",
    [
        Exit((), "sandbox-pass", 0, "Autosana: passed (3 tests passed)"),
        Exit(("--timeout", "forever"), "sandbox-pass", 2, "Option --timeout must be a duration"),
        Exit(("--no-such-option",), "sandbox-pass", 2, "unrecognized arguments: --no-such-option"),
        Exit((), "not-a-sandbox-key", 3, "Autosana rejected the API key (HTTP 401"),
    ],
    ids=["passed", "bad-input", "usage", "vendor-error"],
)
def test_exit_codes(expected: Exit, installed: Installed, sandbox: SandboxServer, tmp_path: Path) -> None:
    done = suiterun(installed, tmp_path, *autosana(sandbox), *expected.args, key=expected.key)
    assert done.returncode == expected.code, done.stdout + done.stderr
    assert expected.said in done.stdout + done.stderr


def test_help_lists_every_input_the_exit_codes_and_where_the_key_comes_from(installed: Installed, tmp_path: Path) -> None:
    done = suiterun(installed, tmp_path, "run", "--help")
    assert done.returncode == 0
    for item in INPUTS:
        if item.name in ("api-key", "github-token"):
            assert f"--{item.name}" not in done.stdout  # secrets never as options
        else:
            assert f"--{item.name} " in done.stdout, item.name
    assert "SUITERUN_API_KEY" in done.stdout and "3  a vendor, network or timeout error" in done.stdout
    version = suiterun(installed, tmp_path, "--version")
    assert version.stdout.strip() == f"suiterun {__version__}"
