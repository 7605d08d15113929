"""Run the action like a GitHub runner does (in its Docker image or from the venv) against a sandbox process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # scripts run as `python scripts/x.py`; the repo's packages live at the root

from tests.support import parse_outputs  # noqa: E402  (needs ROOT on sys.path)

# Where the runner mounts the workspace and the file commands in a Docker action's container.
CONTAINER_WORKSPACE = "/github/workspace"
CONTAINER_FILE_COMMANDS = "/github/file_commands"


@dataclass(frozen=True)
class Sandbox:
    """A `python -m sandbox` process: its base URL and its request log."""

    url: str

    def vendor_url(self, vendor: str) -> str:
        return f"{self.url}/{vendor}"

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/_sandbox/requests", timeout=10) as reply:
            log: list[dict[str, Any]] = json.load(reply)
            return log


@contextmanager
def sandbox_process() -> Iterator[Sandbox]:
    """Start `python -m sandbox` on a free loopback port; a container reaches it with --network host."""
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # "sandbox serving http://127.0.0.1:PORT/autosana, ..."
        if not banner.startswith("sandbox serving "):
            raise SystemExit(f"The sandbox did not start (exit code {process.wait()}).")
        first_url = banner.removeprefix("sandbox serving ").split(",")[0].strip()
        yield Sandbox(first_url.rsplit("/", 1)[0])
    finally:
        process.terminate()
        process.wait(timeout=10)


def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


def build_image(image: str, *, no_cache: bool = False) -> float:
    """Build the action's image from the Dockerfile; returns the seconds it took."""
    started = time.monotonic()
    command = ["docker", "build", "--quiet", "--tag", image, *(["--no-cache"] if no_cache else []), str(ROOT)]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise SystemExit(f"docker build failed (exit code {built.returncode}):\n{built.stderr}")
    return time.monotonic() - started


@dataclass(frozen=True)
class ActionRun:
    """What one run of the action left: exit code, log, outputs, summary, and the child's resource use."""

    exit_code: int
    log: str
    outputs: dict[str, str]
    summary: str
    started: float  # epoch seconds, just before the process was started
    ended: float  # epoch seconds, just after it exited
    max_rss_kib: int  # the child's peak resident memory (for `docker run`, the docker client's)


def run_action(
    inputs: Mapping[str, str], *, image: str | None, workspace_files: Mapping[str, int] | None = None, platform: str | None = None
) -> ActionRun:
    """Run the action once with `inputs`, in the Docker image `image` (for `platform`, e.g. linux/arm64, if given) or
    (None) as `python entrypoint.py`.

    Like the runner: inputs as INPUT_<NAME> (upper-cased, hyphens kept), GITHUB_OUTPUT and
    GITHUB_STEP_SUMMARY as files that a Docker action sees under /github/file_commands.
    `workspace_files` (path -> bytes) are created in the workspace first, sparse, as a build step would leave them."""
    with tempfile.TemporaryDirectory(prefix="suiterun-") as temp:
        files, workspace = Path(temp, "file_commands"), Path(temp, "workspace")
        files.mkdir()
        workspace.mkdir()
        for name, size in (workspace_files or {}).items():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            with (workspace / name).open("wb") as build:
                build.truncate(size)
        (files / "output").touch()
        (files / "summary").touch()
        environ = {"GITHUB_ACTIONS": "true", **{f"INPUT_{name.upper()}": value for name, value in inputs.items()}}
        if image is None:
            environ |= {"GITHUB_OUTPUT": str(files / "output"), "GITHUB_STEP_SUMMARY": str(files / "summary"), "GITHUB_WORKSPACE": str(workspace)}
            command, cwd, env = [sys.executable, str(ROOT / "entrypoint.py")], workspace, {**os.environ, **environ}
        else:
            environ |= {
                "GITHUB_OUTPUT": f"{CONTAINER_FILE_COMMANDS}/output",
                "GITHUB_STEP_SUMMARY": f"{CONTAINER_FILE_COMMANDS}/summary",
                "GITHUB_WORKSPACE": CONTAINER_WORKSPACE,
            }
            # --network host: the container reaches the sandbox on the host's loopback address.
            command = ["docker", "run", "--rm", "--network", "host", "--workdir", CONTAINER_WORKSPACE]
            command += ["--volume", f"{workspace}:{CONTAINER_WORKSPACE}", "--volume", f"{files}:{CONTAINER_FILE_COMMANDS}"]
            command += [part for name in sorted(environ) for part in ("--env", name)]  # values come from env, not argv
            command += [*(["--platform", platform] if platform else []), image]
            cwd, env = ROOT, {**os.environ, **environ}
        log_path = Path(temp, "log")
        with log_path.open("w") as log:
            started = time.time()
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(process.pid, 0)
            ended = time.time()
        process.returncode = os.waitstatus_to_exitcode(status)
        return ActionRun(
            exit_code=process.returncode,
            log=log_path.read_text(encoding="utf-8"),
            outputs=parse_outputs((files / "output").read_text(encoding="utf-8")),
            summary=(files / "summary").read_text(encoding="utf-8"),
            started=started,
            ended=ended,
            max_rss_kib=usage.ru_maxrss,
        )
