"""The composite variant's steps as the runner runs them: composite/install.py finds, checks, builds (then reuses) the
environment of locked packages, a set-up that fails still reports, and the run step starts the engine on the runner's
own Python and hands it the job's signals."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
import yaml

from sandbox.server import SandboxServer
from tests.hostile import wait_for
from tests.support import ROOT, action_environ, collect_run, parse_outputs, sandbox_url

sys.path.insert(0, str(ROOT / "composite"))  # the action runs it as a script: `python composite/install.py`
import install

COMPOSITE = yaml.safe_load((ROOT / "composite/action.yml").read_text(encoding="utf-8"))
STEPS = {step["id"]: step for step in COMPOSITE["runs"]["steps"]}
UV = shutil.which("uv", path=str(Path(sys.executable).parent))  # requirements-dev.txt installs it beside this Python
LOCKED = set(re.findall(r"^([a-z0-9-]+)==([^ ]+) \\$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M))


@dataclass
class SetUp:
    """What one run of install.py left: exit code, log, step outputs and job summary."""

    exit_code: int
    log: str
    outputs: dict[str, str]
    summary: str


def set_up(tool_cache: Path, *, path: str | None = None, find: bool = False, restored: bool = False) -> SetUp:
    """install.py in-process, as the composite's step runs it (without the API key in its environment)."""
    output, summary = tool_cache.parent / f"{tool_cache.name}-output", tool_cache.parent / f"{tool_cache.name}-summary"
    output.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    environ = {"PATH": path if path is not None else os.pathsep.join([str(Path(UV or "").parent), "/usr/bin", "/bin"])}
    environ |= {"RUNNER_TOOL_CACHE": str(tool_cache), "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    if restored:
        environ["SUITERUN_RESTORED"] = "true"
    log = StringIO()
    with redirect_stdout(log):
        exit_code = install.main(["--find"] if find else [], environ)
    return SetUp(exit_code, log.getvalue(), parse_outputs(output.read_text(encoding="utf-8")), summary.read_text(encoding="utf-8"))


@dataclass
class Built:
    tool_cache: Path
    folder: Path
    first: SetUp


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """One environment built with uv in an empty tool cache (beside a killed job's half-built folder and a build
    another job has under way), shared by the tests that need a valid one (about a second, once per worker)."""
    assert UV, "uv is missing from the development environment (requirements-dev.txt)"
    tool_cache = tmp_path_factory.mktemp("composite") / "toolcache"
    abandoned, in_progress = tool_cache / "suiterun/py3.11-0123.building-dead", tool_cache / "suiterun/py3.11-0123.building-live"
    for folder in (abandoned, in_progress):
        (folder / "lib").mkdir(parents=True)
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))  # a killed job's, two hours ago
    first = set_up(tool_cache)
    assert first.exit_code == 0, first.log
    yield Built(tool_cache, tool_cache / "suiterun" / install.Build.expected().folder_name, first)


def copy_of(built: Built, tool_cache: Path) -> Path:
    """The built environment in another tool cache, as a cache restore or a copy from another runner puts it."""
    folder = tool_cache / "suiterun" / built.folder.name
    shutil.copytree(built.folder, folder, symlinks=True)
    return folder


def installed(packages: str) -> set[tuple[str, str]]:
    """(name, version) of each package in the folder's package directories."""
    found = set()
    for directory in packages.split(os.pathsep):
        for path in Path(directory).glob("*.dist-info"):
            name, version = path.name.removesuffix(".dist-info").split("-", 1)
            found.add((name.lower().replace("_", "-"), version))
    return found


def test_the_environment_is_built_once_with_uv_recorded_and_then_reused(built: Built) -> None:
    first = built.first
    assert "suiterun: creating the Python environment in" in first.log and first.outputs["built"] == "true"
    # The engine runs on this Python, with the folder's packages: exactly the locked versions, nothing else.
    assert first.outputs["python"] == sys.executable
    assert Path(first.outputs["packages"]).is_relative_to(built.folder)
    assert installed(first.outputs["packages"]) == LOCKED
    marker = json.loads((built.folder / install.MARKER).read_text(encoding="utf-8"))
    assert marker["lock"] == hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    assert (marker["python"], marker["interpreter"], marker["installer"]) == (sys.version, sys.executable, "uv")
    assert marker["platform"] in built.folder.name
    # No half-built folder of its own left, a killed job's removed, and a build another job has under way kept.
    assert sorted(path.name for path in built.folder.parent.iterdir()) == sorted([built.folder.name, "py3.11-0123.building-live"])

    found = set_up(built.tool_cache, find=True)
    assert found.exit_code == 0 and found.log == ""
    assert found.outputs == {
        "python": sys.executable,
        "folder": str(built.folder),
        "cache-key": f"suiterun-composite-{built.folder.name}",
        "ready": "true",
    }
    again = set_up(built.tool_cache)
    assert again.exit_code == 0 and again.log == f"suiterun: reusing the Python environment in {built.folder}\n"
    assert again.outputs == first.outputs | {"built": "false"}


def test_a_folder_restored_from_the_actions_cache_is_checked_and_reused(built: Built, tmp_path: Path) -> None:
    tool_cache = tmp_path / "toolcache"
    assert set_up(tool_cache, find=True).outputs["ready"] == "false"  # so the cache is asked
    folder = copy_of(built, tool_cache)
    restored = set_up(tool_cache, restored=True)
    assert restored.exit_code == 0
    assert restored.log == f"suiterun: reusing the Python environment restored from the Actions cache in {folder}\n"
    assert restored.outputs["built"] == "false" and installed(restored.outputs["packages"]) == LOCKED


def plant_interpreter(folder: Path, witness: Path) -> None:
    """A bin/python and a `requests` that write down the environment they run with, if anything ever runs them."""
    python = install.interpreter(folder)
    python.parent.mkdir(parents=True, exist_ok=True)
    python.unlink(missing_ok=True)
    python.write_text(f'#!/bin/sh\nenv > "{witness}"\nexit 0\n', encoding="utf-8")
    python.chmod(0o755)
    packages = Path(install.site_packages(folder).split(os.pathsep)[0])
    shutil.rmtree(packages / "requests", ignore_errors=True)
    (packages / "requests").mkdir(parents=True)
    (packages / "requests/__init__.py").write_text(f"import os\nopen({str(witness)!r}, 'w').write(repr(dict(os.environ)))\n", encoding="utf-8")


def rewrite_marker(folder: Path, **changes: str) -> None:
    marker = folder / install.MARKER
    marker.write_text(json.dumps(json.loads(marker.read_text(encoding="utf-8")) | changes), encoding="utf-8")


def test_a_planted_interpreter_never_runs_the_folder_is_built_anew_and_the_run_uses_it(sandbox: SandboxServer, tmp_path: Path) -> None:
    """A folder holding the marker this action once wrote (its key, as text) and a bin/python of someone else's."""
    tool_cache, witness = tmp_path / "toolcache", tmp_path / "witness"
    folder = tool_cache / "suiterun" / install.Build.expected().folder_name
    folder.mkdir(parents=True)
    (folder / install.MARKER).write_text(f"{folder.name}\n", encoding="utf-8")
    plant_interpreter(folder, witness)

    setup = set_up(tool_cache)
    assert setup.exit_code == 0, setup.log
    assert (
        f"::warning title=suiterun set-up::Not using the Python environment in {folder}: its marker is unreadable. Building a new one." in setup.log
    )
    assert setup.outputs["built"] == "true" and install.check(folder, install.Build.expected()) == ""
    assert not [path.name for path in folder.parent.iterdir() if path != folder]  # the planted one set aside and deleted

    sandbox.reset()
    inputs = {"vendor": "autosana", "api-key": "sandbox-pass", "api-url": sandbox_url(sandbox, "autosana"), "suites": "s-1", "app-id": "web"}
    environ = {
        "PATH": os.environ["PATH"],
        **action_environ(tmp_path, inputs | {"wait": "false"}),
        "SUITERUN_PYTHON": setup.outputs["python"],
        "PYTHONPATH": setup.outputs["packages"],
        "GITHUB_ACTION_PATH": str(ROOT / "composite"),
    }
    done = subprocess.run(["bash", "-c", STEPS["run"]["run"]], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60, check=False)
    run = collect_run(tmp_path, done.returncode, done.stdout + done.stderr, sandbox)
    assert (run.exit_code, run.outputs["status"]) == (0, "triggered"), run.log
    assert not witness.exists()


def packages_of(folder: Path) -> Path:
    return Path(install.site_packages(folder).split(os.pathsep)[0])


def only_the_marker(folder: Path) -> None:
    for path in folder.iterdir():
        if path.name != install.MARKER:
            install.remove(path)


def a_link_instead(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.symlink_to(folder.parent)


SPOILED: dict[str, tuple[Callable[[Path], object], str]] = {
    "a-pth-planted": (lambda folder: (packages_of(folder) / "zz.pth").write_text("import os\n", encoding="utf-8"), "its files differ"),
    "a-package-changed": (lambda folder: (packages_of(folder) / "requests/__init__.py").write_text("", encoding="utf-8"), "its files differ"),
    "a-package-gone": (lambda folder: shutil.rmtree(packages_of(folder) / "jinja2"), "its files differ"),
    "only-the-marker": (only_the_marker, "its files differ"),
    "no-marker": (lambda folder: (folder / install.MARKER).unlink(), "it has no marker"),
    "another-lock": (lambda folder: rewrite_marker(folder, lock="0" * 64), "its marker names another lock (requirements.txt)"),
    "another-python": (lambda folder: rewrite_marker(folder, python="3.11.0 (main) [GCC]"), "its marker names another Python version"),
    "another-interpreter": (
        lambda folder: rewrite_marker(folder, interpreter="/opt/elsewhere/bin/python3"),
        "its marker names another Python interpreter",
    ),
    "another-platform": (lambda folder: rewrite_marker(folder, platform="darwin-arm64"), "its marker names another platform"),
    "a-link-instead": (a_link_instead, "it is a link to another folder"),
}


@pytest.mark.parametrize("spoiled", list(SPOILED))
def test_a_folder_is_used_only_when_its_marker_records_this_lock_python_platform_and_its_files(spoiled: str, built: Built, tmp_path: Path) -> None:
    spoil, problem = SPOILED[spoiled]
    folder = copy_of(built, tmp_path / "toolcache")
    assert install.check(folder, install.Build.expected()) == ""
    spoil(folder)
    assert install.check(folder, install.Build.expected()).startswith(problem)
    # The find step reads the marker only, to tell whether to restore; the set-up step checks the files too.
    assert set_up(tmp_path / "toolcache", find=True).outputs["ready"] == ("true" if problem == "its files differ" else "false")


def test_a_folder_with_only_the_marker_is_built_anew(built: Built, tmp_path: Path) -> None:
    """The marker of a finished build, and nothing else: the run step would have ended in exit 127."""
    folder = copy_of(built, tmp_path / "toolcache")
    only_the_marker(folder)
    setup = set_up(tmp_path / "toolcache")
    assert setup.exit_code == 0, setup.log
    assert f"::warning title=suiterun set-up::Not using the Python environment in {folder}: its files differ" in setup.log
    assert setup.outputs["built"] == "true" and installed(setup.outputs["packages"]) == LOCKED
    assert install.check(folder, install.Build.expected()) == ""


def test_uv_failing_leaves_the_build_to_pip_and_never_shows_an_index_password(tmp_path: Path) -> None:
    """Also what a runner without uv gets: pip, as ever (several seconds)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    said = "error: Failed to fetch: https://ci:hunter2secret@mirror.example/simple/requests/"
    (fake_bin / "uv").write_text(f"#!/bin/sh\necho '{said}' >&2\nexit 2\n", encoding="utf-8")
    (fake_bin / "uv").chmod(0o755)
    setup = set_up(tmp_path / "toolcache", path=f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert setup.exit_code == 0, setup.log
    assert "suiterun: uv could not create a virtual environment (exit code 2): error: Failed to fetch: https://***@mirror.example/" in setup.log
    assert "hunter2secret" not in setup.log
    packages = installed(setup.outputs["packages"])
    assert packages >= LOCKED and {name for name, _ in packages - LOCKED} <= {"pip", "setuptools"}  # and the venv's own
    assert json.loads((Path(setup.outputs["packages"]).parents[2] / install.MARKER).read_text(encoding="utf-8"))["installer"] == "pip"


def failing_pip(venv: Path, cwd: Path) -> None:
    raise install.SetupError("pip could not install the locked requirements (exit code 1): ERROR: No matching distribution found for certifi")


def internal_error(environ: object) -> dict[str, str]:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("where", "patch", "message"),
    [
        (
            "a-file",
            None,
            "Could not set up the Python environment in {tool_cache}/suiterun (Not a directory): "
            "check that the runner's tool cache (RUNNER_TOOL_CACHE) is writable and has free space.",
        ),
        (
            "toolcache",
            ("install_with_pip", failing_pip),
            "uv could not create a virtual environment (exit code 3): no network; pip could not install the locked requirements (exit code 1): "
            "ERROR: No matching distribution found for certifi. Check that the runner can reach the package index (PyPI, or the mirror pip is "
            "configured with), then re-run the job.",
        ),
        (
            "toolcache",
            ("set_up", internal_error),
            "Internal error in the composite variant's set-up (RuntimeError: boom). Please report it with this log.",
        ),
    ],
    ids=["tool-cache-not-writable", "no-package-index", "a-bug"],
)
def test_a_set_up_failure_ends_with_one_error_line_a_summary_and_status_error(
    where: str, patch: tuple[str, object] | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    tool_cache = tmp_path / where
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "uv").write_text("#!/bin/sh\necho 'no network' >&2\nexit 3\n", encoding="utf-8")
    (fake_bin / "uv").chmod(0o755)
    if patch:
        monkeypatch.setattr(install, *patch)
    setup = set_up(tool_cache, path=f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin")
    line = message.format(tool_cache=tool_cache)
    assert setup.exit_code == 3
    assert setup.log.splitlines()[-1] == f"::error title=suiterun set-up::{line}"
    assert setup.summary == f"## 🛑 suiterun: error\n\n{install.markdown(line)}\n"
    # What the action passes on when the run step never ran: exactly these outputs of the set-up step.
    passed_on = {name for name, spec in COMPOSITE["outputs"].items() if f"steps.setup.outputs['{name}']" in spec["value"]}
    assert setup.outputs == {"status": "error", "summary": setup.summary.rstrip("\n")}
    assert set(setup.outputs) == passed_on


def test_without_python_3_11_the_set_up_step_says_what_to_do_with_a_summary_and_status_error(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python3", "python"):  # both too old (or a Store stub that fails)
        (fake_bin / name).write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
        (fake_bin / name).chmod(0o755)
    output, summary = tmp_path / "output", tmp_path / "summary"
    environ = {"PATH": f"{fake_bin}:/usr/bin:/bin", "GITHUB_ACTION_PATH": str(ROOT / "composite"), "GITHUB_OUTPUT": str(output)}
    environ["GITHUB_STEP_SUMMARY"] = str(summary)
    found = subprocess.run(["bash", "-c", STEPS["find"]["run"]], env=environ, capture_output=True, text=True, check=False)
    assert (found.returncode, found.stdout, output.exists()) == (0, "", False)  # nothing found: the set-up step reports
    done = subprocess.run(["bash", "-c", STEPS["setup"]["run"]], env=environ | {"SUITERUN_PYTHON": ""}, capture_output=True, text=True, check=False)
    line = "The composite variant needs Python 3.11 or later on the runner (python3 or python on PATH): add actions/setup-python before this step."
    assert done.returncode == 2
    assert done.stdout == f"::error title=suiterun set-up::{line}\n"
    assert summary.read_text(encoding="utf-8") == f"## 🛑 suiterun: error\n\n{install.markdown(line)}\n"  # as install.py writes one
    assert output.read_text(encoding="utf-8") == f"status=error\nsummary<<suiterun_summary\n## 🛑 suiterun: error\n\n{line}\nsuiterun_summary\n"


def test_no_step_before_the_run_sees_an_input_and_the_actions_cache_cannot_fail_the_step() -> None:
    """The API key (and every other input) reaches the run step only, after the set-up checked what it runs."""
    assert list(STEPS) == ["find", "restore", "setup", "save", "run"]
    for name, step in STEPS.items():
        if name != "run":
            assert "inputs" not in yaml.safe_dump(step), name
    for step in (STEPS["restore"], STEPS["save"]):
        assert re.fullmatch(r"actions/cache/(restore|save)@[0-9a-f]{40}", step["uses"])
        assert step["continue-on-error"] is True and "runner.environment != 'self-hosted'" in step["if"]
        assert step["with"] == {"path": "${{ steps.find.outputs.folder }}", "key": "${{ steps.find.outputs.cache-key }}"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cancelling_the_run_step_still_reports_cancelled(signum: int, sandbox: SandboxServer, tmp_path: Path) -> None:
    """The step's script as bash runs it: `exec` makes Python the process the runner signals."""
    inputs = {"vendor": "autosana", "api-key": "sandbox-never", "api-url": sandbox_url(sandbox, "autosana"), "suites": "s-1", "app-id": "web"}
    sandbox.reset()
    environ = {
        "PATH": os.environ["PATH"],
        **action_environ(tmp_path, inputs | {"poll-interval": "1s"}),
        "SUITERUN_PYTHON": sys.executable,
        "PYTHONPATH": sysconfig.get_path("purelib"),  # -S: the packages come from PYTHONPATH only
        "GITHUB_ACTION_PATH": str(ROOT / "composite"),
    }
    process = subprocess.Popen(["bash", "-c", STEPS["run"]["run"]], cwd=tmp_path, env=environ, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: sum(request["method"] == "GET" for request in sandbox.requests) >= 2)  # the first answer is taken in
    process.send_signal(signum)
    log, _ = process.communicate(timeout=20)
    run = collect_run(tmp_path, process.returncode, log, sandbox)
    assert run.outputs["status"] == "cancelled", run.log
    assert run.exit_code == 1 and "The job was cancelled" in run.summary
