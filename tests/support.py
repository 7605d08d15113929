"""Shared test support: a fake clock, the sandbox in a thread, and running the action like a runner does."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from socketserver import BaseServer
from typing import Any

import requests

from sandbox import make_server
from sandbox.server import SandboxServer
from suiterun.clock import Clock
from suiterun.main import main

ROOT = Path(__file__).resolve().parent.parent
# The user's documentation: the README and every page under docs/ (the tests check examples, tables and links across all).
DOC_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
GITHUB_SHA = "0123456789abcdef0123456789abcdef01234567"  # the commit every test run pretends to build


@dataclass
class FakeClock:
    """Monotonic time that only moves when the code sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class TickingClock(FakeClock):
    """Time moves 3 s every time anything looks at it: a slow upload (a progress line every few blocks) without waiting."""

    def monotonic(self) -> float:
        self.now += 3.0
        return self.now


def fake_checkout(workspace: Path, sha: str, *, repository: str = "acme/shop", branch: str = "") -> Path:
    """A `.git` as actions/checkout leaves it: origin is the repository, HEAD the commit (detached) or a branch."""
    git = workspace / ".git"
    (git / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (git / "config").write_text(f'[core]\n\tbare = false\n[remote "origin"]\n\turl = https://github.com/{repository}\n', encoding="utf-8")
    if branch:
        (git / "refs" / "heads" / branch).parent.mkdir(parents=True, exist_ok=True)
        (git / "refs" / "heads" / branch).write_text(f"{sha}\n", encoding="utf-8")
        (git / "HEAD").write_text(f"ref: refs/heads/{branch}\n", encoding="utf-8")
    else:
        (git / "HEAD").write_text(f"{sha}\n", encoding="utf-8")
    return git


@dataclass
class RecordingReporter:
    """An adapter's reporter for unit tests: records masks, warnings (notes too) and log lines."""

    masked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def mask(self, secret: str) -> None:
        self.masked.append(secret)

    def warning(self, message: str, *, title: str = "") -> None:
        self.warnings.append(message)

    def note(self, message: str) -> None:
        self.warnings.append(message)

    def info(self, line: str) -> None:
        self.lines.append(line)


@contextmanager
def serving(server: BaseServer) -> Iterator[None]:
    """`server` answering in a thread until the block ends, then closed."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_sandbox() -> Iterator[SandboxServer]:
    server = make_server("127.0.0.1", 0)
    with serving(server):
        yield server


@dataclass
class ActionRun:
    """What a run of the action left behind, as a workflow would see it."""

    exit_code: int
    outputs: dict[str, str]
    summary: str
    log: str
    requests: list[dict[str, Any]]

    @property
    def results(self) -> Any:
        return json.loads(self.outputs["results"])

    def requests_to(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]


def parse_outputs(text: str) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file (`name<<delimiter` blocks)."""
    outputs = {}
    for match in re.finditer(r"^(?P<name>[\w-]+)<<(?P<delim>\S+)\n(?P<value>.*?)\n(?P=delim)$", text, re.S | re.M):
        outputs[match["name"]] = match["value"]
    return outputs


def action_environ(tmp_path: Path, inputs: Mapping[str, str], extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a runner gives the action: INPUT_* with hyphens kept, and the GITHUB_* files."""
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.touch()
    summary.touch()
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "e2e",
        "GITHUB_SHA": GITHUB_SHA,
    }
    environ.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    environ.update(extra_env or {})
    return environ


def collect_run(tmp_path: Path, exit_code: int, log: str, server: SandboxServer | None) -> ActionRun:
    return ActionRun(
        exit_code=exit_code,
        outputs=parse_outputs((tmp_path / "github_output").read_text(encoding="utf-8")),
        summary=(tmp_path / "step_summary").read_text(encoding="utf-8"),
        log=log,
        requests=list(server.requests) if server else [],
    )


def run_in_process(
    tmp_path: Path,
    inputs: Mapping[str, str],
    *,
    server: SandboxServer | None = None,
    clock: Clock | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> ActionRun:
    """Run main() with a fake clock (no real sleeping, unless a real one is given) and capture what it wrote."""
    if server is not None:
        server.reset()
    stdout = StringIO()
    with redirect_stdout(stdout):
        exit_code = main(
            action_environ(tmp_path, inputs, extra_env),
            session=requests.Session(),
            clock=clock or FakeClock(),
            rng=random.Random(7),
        )
    return collect_run(tmp_path, exit_code, stdout.getvalue(), server)


def run_entrypoint(
    tmp_path: Path,
    inputs: Mapping[str, str],
    *,
    server: SandboxServer | None = None,
    timeout: float = 60,
    extra_env: Mapping[str, str] | None = None,
) -> ActionRun:
    """Run `python entrypoint.py` as a subprocess from an unrelated directory, as the runner does."""
    if server is not None:
        server.reset()
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **action_environ(tmp_path, inputs, extra_env)}
    process = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return collect_run(tmp_path, process.returncode, process.stdout + process.stderr, server)


def sandbox_url(server: SandboxServer, vendor: str) -> str:
    return f"{server.url}/{vendor}"
