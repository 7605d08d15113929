"""Check what the two action steps of e2e-reporting.yml left behind: the comment, the report files, the summary, the annotations (stdlib only).

In the job (no arguments), from the environment: GITHUB_API_URL (the fake GitHub API), GITHUB_REPOSITORY, PR, MARKER (the
first line of the comment the job started the fake with), TESTS and GREEN (the outputs of the two steps as JSON) and
GREEN_OUTCOME. `--act <act command...> -e <event>` (make e2e) runs the workflow with act, pointing GITHUB_API_URL at a
free port for the fake, and then checks act's log for the failure annotations, which no step of the job can read.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FAILURE = "Expected the error 'Card expired' but the payment page stayed blank."
TEMPLATE_HEADING = "## e2e custom template: ❌ Autosana failed, 1 failed and 1 errored of 4 (step tests)"
# What act prints for a `::warning` command it parsed (fail-on: never turns the failure annotations into warnings).
ANNOTATIONS = (
    f"🚧  ::warning title=Checkout with expired card::Autosana test failed: {FAILURE}",
    "🚧  ::warning title=Reset password::Autosana test errored: The app crashed while opening the reset screen.",
)


def comment_problems(state: dict[str, Any], repository: str, pr: str, marker: str) -> Iterator[str]:
    """The red step updated the comment it found (one PATCH, no POST); the green step with comment: failures only read."""
    thread = state["comments"].get(f"{repository}#{pr}", [])
    if len(thread) != 1:
        yield f"pull request {repository}#{pr} has {len(thread)} comments, expected the one the fake started with"
    for comment in thread:
        body = comment["body"]
        if not body.startswith(marker + "\n"):
            yield f"the comment does not start with the marker {marker!r}: {body[:300]!r}"
        if FAILURE not in body:
            yield f"the comment does not contain the failure message: {body[:300]!r}"
    writes = [(request["method"], request["path"]) for request in state["requests"] if request["method"] != "GET"]
    own = f"/repos/{repository}/issues/comments/{thread[0]['id']}" if thread else "?"
    if writes != [("PATCH", own)]:
        yield f"the fake received the writes {writes}, expected one PATCH of {own}"
    lists = [
        request for request in state["requests"] if request["method"] == "GET" and request["path"] == f"/repos/{repository}/issues/{pr}/comments"
    ]
    if len(lists) != 2:
        yield f"the comments were listed {len(lists)} times, expected once per step"


def report_problems(outputs: dict[str, str]) -> Iterator[str]:
    if (outputs.get("junit-file"), outputs.get("ctrf-file")) != ("reports/junit.xml", "reports/ctrf.json"):
        yield f"outputs junit-file/ctrf-file are {outputs.get('junit-file')!r}/{outputs.get('ctrf-file')!r}"
        return
    junit = ET.parse(outputs["junit-file"]).getroot()
    counts = {name: junit.get(name) for name in ("tests", "failures", "errors")}
    if counts != {"tests": "4", "failures": "1", "errors": "1"}:
        yield f"{outputs['junit-file']} counts {counts}, expected tests=4 failures=1 errors=1"
    summary = json.loads(Path(outputs["ctrf-file"]).read_text(encoding="utf-8"))["results"]["summary"]
    if (summary["tests"], summary["failed"]) != (4, 2):
        yield f"{outputs['ctrf-file']} summary has tests={summary['tests']} failed={summary['failed']}, expected 4 and 2"


def summary_problems(outputs: dict[str, str]) -> Iterator[str]:
    summary = outputs.get("summary", "")
    if not summary.startswith(TEMPLATE_HEADING + "\n"):
        yield f"the summary was not rendered by tests/e2e/summary.md.j2: {summary[:300]!r}"
    if f"- failed: Checkout with expired card: {FAILURE}" not in summary:
        yield f"the summary does not list the failed test: {summary[:500]!r}"


def step_problems(outputs: dict[str, str], green: dict[str, str], green_outcome: str) -> Iterator[str]:
    if (outputs.get("status"), outputs.get("failed"), outputs.get("errored")) != ("failed", "1", "1"):
        yield f"step tests: status {outputs.get('status')!r}, failed {outputs.get('failed')!r}, errored {outputs.get('errored')!r}"
    if (green_outcome, green.get("status")) != ("success", "passed"):
        yield f"step green: outcome {green_outcome!r}, status {green.get('status')!r}, expected a passed run"


def job_problems(environ: dict[str, str]) -> list[str]:
    outputs, green = json.loads(environ["TESTS"]), json.loads(environ["GREEN"])
    state_url = environ["GITHUB_API_URL"].removesuffix("/api/v3") + "/_fake/state"
    with urllib.request.urlopen(state_url, timeout=10) as answer:
        state = json.load(answer)
    return [
        *comment_problems(state, environ["GITHUB_REPOSITORY"], environ["PR"], environ["MARKER"]),
        *report_problems(outputs),
        *summary_problems(outputs),
        *step_problems(outputs, green, environ["GREEN_OUTCOME"]),
    ]


def log_problems(log: str) -> list[str]:
    return [f"act's log does not show the annotation {line!r}" for line in ANNOTATIONS if line not in log]


def run_act(command: list[str]) -> list[str]:
    """Run the workflow, echoing act's log, and check the log."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # act runs the job on the host's network: the fake the job starts on this port is the action's GitHub API.
    # A step's `env:` or $GITHUB_ENV cannot override act's GITHUB_API_URL; act's --env can.
    # act names the repository after the checkout's `origin` remote (nektos/act without one, a path for a local clone);
    # GitHub names the event's repository.
    event = json.loads(Path(command[command.index("-e") + 1]).read_text(encoding="utf-8"))
    command = [*command, "--env", f"GITHUB_API_URL=http://127.0.0.1:{port}/api/v3", "--env", f"GITHUB_REPOSITORY={event['repository']['full_name']}"]
    log = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8", errors="replace") as act:
        assert act.stdout is not None
        for line in act.stdout:
            sys.stdout.write(line)
            log.append(line)
    if act.returncode != 0:
        return [f"act exited with {act.returncode}: the job failed"]
    return log_problems("".join(log))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--act", nargs=argparse.REMAINDER, help="run e2e-reporting.yml with this act command, then check its log")
    options = parser.parse_args()
    found = run_act(options.act) if options.act else job_problems(dict(os.environ))
    for problem in found:
        print(f"::error title=e2e-reporting::{problem}")
    if not found:
        print(
            "e2e-reporting: "
            + ("the job passed and act's log shows the failure annotations" if options.act else "comment, report files and summary as expected")
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
