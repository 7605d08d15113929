"""Set up the composite variant's Python packages, or reuse them (stdlib only: it runs on the runner's own Python).

What it builds: a virtual environment holding exactly the locked requirements (requirements.txt: wheels only, every
one checked against its hash), with `uv` when the runner has it on PATH (about a second), else with pip (several
seconds; also when uv fails, e.g. because only pip is configured for the runner's package mirror). It lives outside the
workspace, in the runner's tool cache (RUNNER_TOOL_CACHE, else RUNNER_TEMP), in a folder named after what it is built
from: the lock, this Python (version and path) and the platform. It is built in a fresh folder beside it and renamed
into place only when complete, so two jobs on one self-hosted runner never see half of one.

What it trusts: this interpreter (the runner's Python 3.11+ that the action's first step found on PATH), the action's
own files, and the tool cache. The engine runs on this interpreter, never on one from the folder: the run step starts it
with `-S` and the folder's site-packages as PYTHONPATH. A folder is reused only when its marker (MARKER, written last)
records this very lock, Python and platform, and a digest of every file in it that still matches; anything else (a
folder someone planted, one with only a marker, one restored half from the Actions cache) is moved aside and built anew.
A marker can be forged by whoever can write the tool cache, who could as well change the runner's Python: the check
keeps out accidents and a planted interpreter, not an attacker who already owns the runner.

Two modes, one per step of composite/action.yml (neither step has the API key in its environment):
- `install.py --find` writes to GITHUB_OUTPUT this interpreter (`python`), the folder and its Actions cache key, and
  whether its marker is this job's (`ready`), for the step that restores it from the Actions cache. It builds
  nothing and never fails: the next step meets the same problem and reports it.
- `install.py` reuses the folder or builds it, and writes `python`, `packages` (for PYTHONPATH) and `built` (true when
  it built one, for the step that saves it to the Actions cache). Every failure ends as one `::error` line naming what
  failed and what to do, a job summary, and `status=error` and `summary` outputs (which the action passes on when the
  run step never ran).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ACTION_ROOT = Path(__file__).resolve().parent.parent
LOCK = ACTION_ROOT / "requirements.txt"
MARKER = "suiterun-complete"  # written last, with what was built; a folder without a valid one is never used
CACHE_KEY_PREFIX = "suiterun-composite-"
PYTHON = Path(sys.executable).as_posix()  # for the next steps' bash (C:/... on Windows)
# A build takes seconds; one this old was left by a job that was killed (Windows cancels without a signal).
ABANDONED_SECONDS = 3600
EXIT_ERROR = 3  # README, Exit codes: a vendor, network or timeout error (a set-up that cannot reach the package index)
WHAT_IT_WAS_BUILT_FOR = {"lock": "lock (requirements.txt)", "python": "Python version", "interpreter": "Python interpreter", "platform": "platform"}
URL_USERINFO = re.compile(r"(://)[^/\s@]+@")  # user and password of an index URL, in what an installer prints
Installer = Callable[[Path, Path], None]  # builds the environment in the new folder (first), run in the second


class SetupError(Exception):
    """A failure of the set-up, as one line naming what failed and what to do."""


@dataclass(frozen=True)
class Build:
    """What a folder must have been built from for this job to use it."""

    lock: str  # sha256 of requirements.txt
    python: str  # sys.version
    interpreter: str  # the interpreter that builds it and runs the engine (its path as the OS compares paths)
    platform: str

    @classmethod
    def expected(cls) -> Build:
        try:
            lock = hashlib.sha256(LOCK.read_bytes()).hexdigest()
        except OSError as exc:
            raise SetupError(
                f"Could not read the action's {LOCK.name} ({exc.strerror or exc}): the action's files are incomplete; re-run the job."
            ) from exc
        machine = f"{sys.platform}-{platform.machine().lower()}"
        return cls(lock=lock, python=sys.version, interpreter=os.path.normcase(os.path.normpath(sys.executable)), platform=machine)

    @property
    def folder_name(self) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
        return f"py{sys.version_info.major}.{sys.version_info.minor}-{self.platform}-{digest}"


def cache_root(environ: Mapping[str, str]) -> Path:
    for name in ("RUNNER_TOOL_CACHE", "RUNNER_TEMP"):
        if environ.get(name):
            return Path(environ[name]) / "suiterun"
    return Path(tempfile.gettempdir()) / "suiterun"


def interpreter(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def site_packages(venv: Path) -> str:
    """The folder's package directories (one, unless the platform splits pure and compiled ones), for PYTHONPATH."""
    paths = {sysconfig.get_path(kind, "venv", vars={"base": str(venv), "platbase": str(venv)}) for kind in ("purelib", "platlib")}
    return os.pathsep.join(sorted(paths))


def digest(folder: Path) -> str:
    """A hash of everything under `folder` but the marker: each entry's path and kind, each file's content, each link's
    target (links are never followed, nor anything but a regular file opened)."""
    total = hashlib.sha256()

    def add(line: str) -> None:
        total.update(line.encode("utf-8", "surrogateescape") + b"\n")

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as scanned:
            entries = sorted(scanned, key=lambda entry: entry.name)
        for entry in entries:
            relative = prefix + entry.name
            if relative == MARKER:
                continue
            if entry.is_symlink():
                add(f"link {relative} {os.readlink(entry.path)}")
            elif entry.is_dir(follow_symlinks=False):
                add(f"folder {relative}")
                walk(entry.path, relative + "/")
            elif entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as file:
                    add(f"file {relative} {hashlib.file_digest(file, 'sha256').hexdigest()}")
            else:  # a pipe or device: recorded, never opened
                add(f"other {relative}")

    walk(str(folder), "")
    return total.hexdigest()


def check(folder: Path, build: Build, *, files: bool = True) -> str:
    """Why `folder` cannot be used, or '' when it can: its marker records `build` and the digest of what is in it. With
    files=False, the marker only: enough for the find step to tell whether to restore (the set-up step checks all)."""
    if folder.is_symlink():
        return "it is a link to another folder"
    if not folder.is_dir():
        return "there is none"
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "it has no marker (it was not built by this action)"
    except (OSError, ValueError):
        return "its marker is unreadable"
    if not isinstance(record, dict):
        return "its marker is unreadable"
    for field, value in asdict(build).items():
        if record.get(field) != value:
            return f"its marker names another {WHAT_IT_WAS_BUILT_FOR[field]}"
    if not files:
        return ""
    try:
        found = digest(folder)
    except OSError as exc:
        return f"its files cannot be read ({exc.strerror or exc})"
    if record.get("files") != found:
        return "its files differ from the ones its marker records"
    return ""


def write_marker(folder: Path, build: Build, installer: str) -> None:
    record = asdict(build) | {"installer": installer, "built": datetime.now(UTC).isoformat(timespec="seconds"), "files": digest(folder)}
    (folder / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def run(command: list[str], *, what: str, cwd: Path) -> None:
    """Run an installer quietly; its failure becomes a SetupError ending in the last words it printed (without the
    password of an index URL, should it print one)."""
    try:
        done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", check=False)
    except OSError as exc:
        raise SetupError(f"{what}: could not start {command[0]} ({exc.strerror or exc})") from exc
    if done.returncode != 0:
        said = URL_USERINFO.sub(r"\1***@", " ".join(done.stdout.split()[-60:]))
        raise SetupError(f"{what} (exit code {done.returncode}): {said[-400:] or 'no message'}")


def uv_installer(uv: str) -> Installer:
    def install(venv: Path, cwd: Path) -> None:
        run(
            [uv, "venv", "--quiet", "--no-python-downloads", "--python", sys.executable, str(venv)],
            what="uv could not create a virtual environment",
            cwd=cwd,
        )
        install = ["--require-hashes", "--only-binary", ":all:", "--no-deps", "--link-mode", "copy", "--compile-bytecode", "-r", str(LOCK)]
        run(
            [uv, "pip", "install", "--quiet", "--python", str(interpreter(venv)), *install],
            what="uv could not install the locked requirements",
            cwd=cwd,
        )

    return install


def install_with_pip(venv: Path, cwd: Path) -> None:
    run([sys.executable, "-m", "venv", "--clear", str(venv)], what=f"{sys.executable} could not create a virtual environment", cwd=cwd)
    pip = [str(interpreter(venv)), "-m", "pip", "--disable-pip-version-check", "--no-input", "--quiet"]
    install = ["install", "--require-hashes", "--only-binary", ":all:", "--no-deps", "-r", str(LOCK)]
    run([*pip, *install], what="pip could not install the locked requirements", cwd=cwd)


def installers(environ: Mapping[str, str]) -> dict[str, Installer]:
    """uv when the runner has it (fast), then pip (what every Python has; also the one a package mirror is set up for)."""
    uv = shutil.which("uv", path=environ.get("PATH"))
    return ({"uv": uv_installer(uv)} if uv else {}) | {"pip": install_with_pip}


def build(target: Path, expected: Build, environ: Mapping[str, str]) -> bool:
    """Build the environment in a fresh folder beside `target`, then rename it into place. False when another job's
    build got there first (and passes the check): that one is used."""
    failures = []
    for name, install in installers(environ).items():
        building = Path(tempfile.mkdtemp(prefix=f"{target.name}.building-", dir=target.parent))
        try:
            try:
                install(building, target.parent)
            except SetupError as exc:
                failures.append(str(exc))
                if name != "pip":
                    print(f"suiterun: {exc}; building with pip instead", flush=True)
                continue
            write_marker(building, expected, name)
            try:
                building.rename(target)
            except OSError:
                if check(target, expected):  # not another job's finished copy: a real failure
                    raise
                return False
            return True
        finally:
            remove(building)
    raise SetupError(
        f"{'; '.join(failures)}. Check that the runner can reach the package index (PyPI, or the mirror pip is configured with), then re-run the job."
    )


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def set_aside(target: Path) -> None:
    """Move a folder that failed its check out of the way at once (a rename), then delete it."""
    stale = target.with_name(f"{target.name}.stale-{os.urandom(4).hex()}")
    try:
        target.rename(stale)
    except FileNotFoundError:  # another job set it aside first
        return
    remove(stale)


def remove_abandoned(root: Path) -> None:
    """Half-built or half-deleted folders of killed jobs; a self-hosted runner keeps its tool cache, so they would pile up."""
    for folder in [*root.glob("*.building-*"), *root.glob("*.stale-*")]:
        try:
            if time.time() - folder.lstat().st_mtime > ABANDONED_SECONDS:
                remove(folder)
        except OSError:  # another job's build renamed into place meanwhile
            pass


def set_up(environ: Mapping[str, str]) -> dict[str, str]:
    """Reuse the folder when it passes its check, else build it; the step outputs for the run step."""
    expected = Build.expected()
    root = cache_root(environ)
    target = root / expected.folder_name
    restored = " restored from the Actions cache" if environ.get("SUITERUN_RESTORED") == "true" else ""
    started = time.monotonic()
    built = False
    try:
        problem = check(target, expected)
        if not problem:
            print(f"suiterun: reusing the Python environment{restored} in {target}", flush=True)
        else:
            root.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                warning = f"Not using the Python environment{restored} in {target}: {problem}. Building a new one."
                if restored:
                    warning += f" If this repeats, delete the Actions cache entry {CACHE_KEY_PREFIX + target.name}."
                print(f"::warning title=suiterun set-up::{escape(warning)}", flush=True)
                set_aside(target)
            remove_abandoned(root)
            print(f"suiterun: creating the Python environment in {target} (once per runner and requirements)", flush=True)
            built = build(target, expected, environ)
            print(f"suiterun: ready in {time.monotonic() - started:.1f}s", flush=True)
    except OSError as exc:
        raise SetupError(
            f"Could not set up the Python environment in {exc.filename or target} ({exc.strerror or exc}): "
            "check that the runner's tool cache (RUNNER_TOOL_CACHE) is writable and has free space."
        ) from exc
    return {"python": PYTHON, "packages": site_packages(target), "built": "true" if built else "false"}


def find(environ: Mapping[str, str]) -> dict[str, str]:
    """Where this job's folder goes, its Actions cache key, and whether one built for this job is there already."""
    outputs = {"python": PYTHON}
    try:
        expected = Build.expected()
        target = cache_root(environ) / expected.folder_name
        ready = not check(target, expected, files=False)
    except Exception:  # whatever it is, the set-up step meets it again and reports it
        return outputs
    return outputs | {"folder": str(target), "cache-key": CACHE_KEY_PREFIX + target.name, "ready": "true" if ready else "false"}


def fail(message: str, environ: Mapping[str, str]) -> int:
    """A failed set-up still gives what a failed run gives: an error line, a job summary and status=error."""
    line = " ".join(message.split())
    print(f"::error title=suiterun set-up::{escape(line)}", flush=True)
    summary = f"## 🛑 suiterun: error\n\n{markdown(line)}"
    try:
        if environ.get("GITHUB_STEP_SUMMARY"):
            with open(environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as file:
                file.write(summary + "\n")
        write_outputs(environ, {"status": "error", "summary": summary})
    except OSError as exc:  # the error line above has said it all
        print(f"suiterun: could not write the job summary or the step outputs ({exc.strerror or exc})", flush=True)
    return EXIT_ERROR


def write_outputs(environ: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    if not environ.get("GITHUB_OUTPUT"):
        return
    with open(environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as file:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{os.urandom(16).hex()}"  # random: no value can end its block early
            file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def escape(text: str) -> str:
    """Text for a workflow command's message: one line that cannot start another command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def markdown(text: str) -> str:
    """A message in the job summary: HTML escaped, Markdown syntax escaped, no @mention."""
    escaped = re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", html.escape(text, quote=False))
    return escaped.replace("@", "@\u200b")


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--find", action="store_true", help="only say where the environment goes and whether it is usable")
    args = parser.parse_args(argv)
    if args.find:
        with contextlib.suppress(OSError):  # the set-up step meets the same problem and reports it
            write_outputs(environ, find(environ))
        return 0
    try:
        write_outputs(environ, set_up(environ))
    except SetupError as exc:
        return fail(str(exc), environ)
    except Exception as exc:  # a bug: still one line, a summary and status=error
        return fail(f"Internal error in the composite variant's set-up ({type(exc).__name__}: {exc}). Please report it with this log.", environ)
    return 0


if __name__ == "__main__":
    sys.exit(main())
