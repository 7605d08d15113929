"""Set up the composite variant's Python environment, or reuse it (stdlib only: it runs on the runner's own Python).

The virtual environment lives outside the workspace, in the runner's tool cache (RUNNER_TOOL_CACHE, else RUNNER_TEMP),
in a folder named after a hash of the locked requirements, this Python's version and the platform: a job reuses what an
earlier job on the same runner built, and a change of any of them builds a new one. It holds exactly the versions of
requirements.txt, checked against their hashes, from wheels only. It is built in a folder of its own and renamed into
place only when complete, so two jobs on one self-hosted runner never see half of one. Writes `python=<interpreter>`
to GITHUB_OUTPUT for the next step.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACTION_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ACTION_ROOT / "requirements.txt"
COMPLETE = "suiterun-complete"  # written last: a folder without it is not used
# A build takes seconds; one this old was left by a job that was killed (Windows cancels without a signal).
ABANDONED_SECONDS = 3600


def cache_root() -> Path:
    for name in ("RUNNER_TOOL_CACHE", "RUNNER_TEMP"):
        if os.environ.get(name):
            return Path(os.environ[name]) / "suiterun"
    return Path(tempfile.gettempdir()) / "suiterun"


def environment_key() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version}|{sys.platform}|{platform.machine()}".encode())
    return f"py{sys.version_info.major}.{sys.version_info.minor}-{digest.hexdigest()[:16]}"


def interpreter(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build(target: Path) -> None:
    """Create the venv in a folder beside `target`, install the locked requirements, then rename it into place."""
    building = Path(tempfile.mkdtemp(prefix=f"{target.name}.building-", dir=target.parent))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(building)], check=True)
        pip = [str(interpreter(building)), "-m", "pip", "--disable-pip-version-check", "--no-input", "--quiet"]
        install = ["install", "--require-hashes", "--only-binary", ":all:", "--no-deps", "-r", str(REQUIREMENTS)]
        subprocess.run([*pip, *install], check=True)
        (building / COMPLETE).write_text(environment_key() + "\n", encoding="utf-8")
        try:
            building.rename(target)
        except OSError:
            if not (target / COMPLETE).exists():  # not another job's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def remove_abandoned_builds(root: Path) -> None:
    """Half-built folders of killed jobs; a self-hosted runner keeps its tool cache, so they would pile up."""
    for folder in root.glob("*.building-*"):
        try:
            if time.time() - folder.stat().st_mtime > ABANDONED_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # another job's build renamed into place meanwhile
            pass


def main() -> int:
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / environment_key()
    started = time.monotonic()
    if (target / COMPLETE).exists():
        print(f"suiterun: reusing the Python environment in {target}", flush=True)
    else:
        shutil.rmtree(target, ignore_errors=True)  # an incomplete one, left by a job that was stopped
        remove_abandoned_builds(root)
        print(f"suiterun: creating the Python environment in {target} (once per runner and requirements)", flush=True)
        try:
            build(target)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"::error title=suiterun::Could not set up the Python environment in {target}: {exc}", flush=True)
            return 1
        print(f"suiterun: ready in {time.monotonic() - started:.1f}s", flush=True)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as file:
            file.write(f"python={interpreter(target).as_posix()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
