"""e2e-reporting.yml stays in step with the action, and the fake GitHub API it starts serves and reports as the workflow expects."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import Any

import yaml

from suiterun.settings import comment_marker
from tests.fake_github import TOKEN
from tests.support import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
WORKFLOW = yaml.safe_load((ROOT / ".github/workflows/e2e-reporting.yml").read_text(encoding="utf-8"))
(JOB_ID, JOB), *_ = WORKFLOW["jobs"].items()
ACTION_STEPS = [step for step in JOB["steps"] if step.get("uses") == "./"]


def test_the_earlier_comment_carries_the_marker_the_action_writes_for_step_tests() -> None:
    # Renaming the workflow, the job or the step changes the marker: the workflow's MARKER must follow, or the e2e run posts a second comment.
    identity = {"vendor": "autosana", "workflow": WORKFLOW["name"], "job": JOB_ID, "matrix": {}, "step": "tests"}
    assert JOB["env"]["MARKER"] == comment_marker(identity)
    assert [step["with"]["vendor"] for step in ACTION_STEPS if step["id"] == "tests"] == ["autosana"]


def test_action_steps_use_real_inputs_and_the_fakes_token() -> None:
    for step in ACTION_STEPS:
        assert set(step["with"]) <= set(ACTION["inputs"])
        assert step["with"]["github-token"] == TOKEN


def fake_state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.removesuffix("/api/v3") + "/_fake/state", timeout=5) as answer:
        state: dict[str, Any] = json.load(answer)
    return state


def test_the_fake_github_module_serves_a_seeded_comment_and_reports_requests_without_the_token() -> None:
    command = [sys.executable, "-m", "tests.fake_github", "--port", "0", "--comment", "acme/shop", "17", "<!-- marker -->\nearlier"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().removeprefix("fake github serving ").strip()
            listing = urllib.request.Request(f"{url}/repos/acme/shop/issues/17/comments", headers={"Authorization": f"token {TOKEN}"})
            with urllib.request.urlopen(listing, timeout=5) as answer:
                assert [comment["body"] for comment in json.load(answer)] == ["<!-- marker -->\nearlier"]
            state = fake_state(url)
        finally:
            server.terminate()
    assert [comment["id"] for comment in state["comments"]["acme/shop#17"]] == [1000]
    assert [(request["method"], request["path"], request["headers"]) for request in state["requests"]] == [
        ("GET", "/repos/acme/shop/issues/17/comments", {})
    ]
    assert TOKEN not in json.dumps(state)
